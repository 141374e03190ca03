package dev.blockpull.nbd;

import dev.blockpull.format.ChainExtent;
import dev.blockpull.format.ExtentKind;
import dev.blockpull.graph.Attachment;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.BufferPool;
import dev.blockpull.io.Zeros;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import static dev.blockpull.nbd.NbdProtocol.*;

/**
 * One client: the handshake, then a reader (this connection's own thread) that decodes requests
 * and hands them to the server's worker pool, at most {@code maxInFlightPerClient} at once, so
 * that many requests of one client run concurrently. A request that arrives alone (nothing in
 * flight, nothing further read ahead) is processed on the reader thread itself: at queue depth 1
 * the two thread handoffs would cost more than the request. Replies are written whole under one lock, in
 * completion order, as NBD allows. A client that breaks the framing is disconnected; the requests
 * it already sent still finish (they may be writes the client waits for) and release their
 * buffers, then the socket closes.
 */
final class NbdConnection implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(NbdConnection.class);
    private static final AtomicLong IDS = new AtomicLong();
    /** Zero runs shorter than this are sent as data: a hole chunk costs more than it saves. */
    private static final int HOLE_GRANULE = 4096;
    /** Most descriptors one block status reply carries; the client asks again for the rest. */
    private static final int MAX_DESCRIPTORS = 1 << 16;
    /** Bytes of requests read ahead from the socket per connection. */
    private static final int READ_AHEAD = 64 * 1024;
    /** Most bytes a CMD_CACHE copies at once. */
    private static final int CACHE_STEP = 4 << 20;

    private final long id = IDS.incrementAndGet();
    /** The client's socket: closing or shutting it down ends the TLS over it too. */
    private final SocketChannel socket;
    /** Plain until the handshake ends; replies go through the channel negotiated. */
    private NbdChannel ch;
    private final @Nullable TlsCredentials tls;
    private final NbdServer server;
    private final ExportRegistry registry;
    private final ExecutorService workers;
    private final BufferPool.Account buffers;
    private final NbdServerSettings settings;
    private final Semaphore permits;
    private final ReentrantLock writeLock = new ReentrantLock();
    private volatile boolean closed;
    private volatile boolean negotiating = true;
    private @Nullable NbdExport export;
    private boolean structured;
    private boolean baseAllocation;
    private boolean allocationDepth;

    NbdConnection(SocketChannel socket, @Nullable TlsCredentials tls, NbdServer server, ExportRegistry registry,
                  ExecutorService workers, BufferPool.Account buffers, NbdServerSettings settings) {
        this.socket = socket;
        this.ch = new PlainChannel(socket);
        this.tls = tls;
        this.server = server;
        this.registry = registry;
        this.workers = workers;
        this.buffers = buffers;
        this.settings = settings;
        this.permits = new Semaphore(settings.maxInFlightPerClient());
    }

    long id() {
        return id;
    }

    boolean isNegotiating() {
        return negotiating;
    }

    @Override
    public void run() {
        try {
            NbdHandshake.Negotiated n = new NbdHandshake(socket, tls, registry, this, settings.maxRequestSize()).run();
            negotiating = false;
            if (n == null) {
                return;
            }
            ch = n.channel();
            export = n.export();
            structured = n.structuredReplies();
            baseAllocation = n.baseAllocation();
            allocationDepth = n.allocationDepth();
            transmission(n.export());
        } catch (EOFException | ClosedChannelException e) {
            log.debug("Client {} went away: {}", this, e.toString());
        } catch (SSLException e) {
            // a missing or untrusted client certificate, a client that does not trust ours: worth a line
            log.info("NBD client {} failed TLS: {}", this, e.getMessage());
        } catch (IOException e) {
            log.debug("Client {} connection failed: {}", this, e.toString());
        } catch (NbdProtocolException e) {
            log.info("Disconnecting NBD client {}: {}", this, e.getMessage());
        } catch (RuntimeException e) {
            log.warn("Disconnecting NBD client {} after an unexpected error", this, e);
        } finally {
            negotiating = false;
            finish();
        }
    }

    /**
     * Stops reading (the reader sees end-of-stream), so the connection closes once the requests it
     * already accepted were answered: the graceful way out at server shutdown.
     */
    void stopReading() {
        closed = true;
        try {
            socket.shutdownInput();
        } catch (IOException e) {
            close();
        }
    }

    /** Disconnects at once: the reader stops, requests already running finish on their own. */
    void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    // ------------------------------------------------------------------ reader

    private void transmission(NbdExport ex) throws IOException, NbdProtocolException {
        // read-ahead: one read usually brings a whole header (and a small write's payload, and any
        // requests pipelined behind it) instead of one syscall per header and payload
        ByteBuffer in = ByteBuffer.allocateDirect(READ_AHEAD).flip();
        int max = settings.maxInFlightPerClient();
        while (!closed) {
            fill(in, REQUEST_HEADER_SIZE);
            int magic = in.getInt();
            if (magic != REQUEST_MAGIC) {
                throw new NbdProtocolException("bad request magic 0x" + Integer.toHexString(magic));
            }
            int flags = Short.toUnsignedInt(in.getShort());
            int type = Short.toUnsignedInt(in.getShort());
            long cookie = in.getLong();
            long offset = in.getLong();
            long length = Integer.toUnsignedLong(in.getInt());
            if (type == CMD_DISC) {
                log.debug("Client {} disconnects", this);
                return;
            }
            ByteBuffer payload = null;
            if (type == CMD_WRITE) {
                if (length > settings.maxRequestSize()) {
                    // the payload cannot be skipped safely: proto.md allows a hard disconnect
                    throw new NbdProtocolException("write of " + length + " bytes, more than the maximum "
                            + settings.maxRequestSize());
                }
                payload = buffers.acquire((int) length);
                try {
                    int buffered = Math.min(in.remaining(), payload.remaining());
                    if (buffered > 0) {
                        int at = in.position();
                        payload.put(in.slice(at, buffered));
                        in.position(at + buffered);
                    }
                    // the rest of a payload larger than what was read ahead goes straight in
                    Wire.readFully(ch, payload);
                } catch (IOException | RuntimeException e) {
                    buffers.release(payload);
                    throw e;
                }
                payload.flip();
            }
            // Nothing else in flight and no further request already read: the client waits for
            // this one reply (queue depth 1), so answer it on this thread and spare two handoffs.
            // Otherwise hand it to the workers so that requests run concurrently.
            boolean inline = !in.hasRemaining() && permits.availablePermits() == max;
            submit(ex, new NbdRequest(flags, type, cookie, offset, length, payload), inline);
        }
    }

    /** Makes at least {@code n} bytes readable in {@code in} (read mode), reading ahead what is there. */
    private void fill(ByteBuffer in, int n) throws IOException {
        if (in.remaining() >= n) {
            return;
        }
        in.compact();
        try {
            while (in.position() < n) {
                if (ch.read(in) < 0) {
                    throw new EOFException("client closed the connection");
                }
            }
        } finally {
            in.flip();
        }
    }

    private void submit(NbdExport ex, NbdRequest r, boolean inline) throws IOException {
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            release(r);
            Thread.currentThread().interrupt();
            throw new ClosedChannelException();
        }
        if (!ex.begin()) {
            try {
                replyError(r, ESHUTDOWN, "export is being removed");
            } finally {
                release(r);
                permits.release();
            }
            return;
        }
        if (inline) {
            process(ex, r);
            return;
        }
        try {
            workers.execute(() -> process(ex, r));
        } catch (RejectedExecutionException e) {
            try {
                replyError(r, ESHUTDOWN, "server is shutting down");
            } finally {
                release(r);
                ex.end();
                permits.release();
            }
        }
    }

    private void release(NbdRequest r) {
        ByteBuffer p = r.payload();
        if (p != null) {
            buffers.release(p);
        }
    }

    /** After the reader stops: lets the running requests answer, then closes and unregisters. */
    private void finish() {
        closed = true;
        int max = settings.maxInFlightPerClient();
        try {
            if (permits.tryAcquire(max, 60, TimeUnit.SECONDS)) {
                permits.release(max);
            } else {
                log.warn("Client {}: requests still running 60 s after the client stopped; closing anyway", this);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        NbdExport ex = export;
        if (ex != null) {
            ex.removeClient(this);
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do
        }
        server.connectionClosed(this);
    }

    // ------------------------------------------------------------------ workers

    private void process(NbdExport ex, NbdRequest r) {
        try {
            handle(ex, r);
        } catch (Throwable t) {
            int errno = errno(t);
            if (errno == EIO) {
                log.warn("NBD {} of client {} on export '{}' failed", r.describe(), this, ex.id(), t);
            } else {
                log.debug("NBD {} of client {} on export '{}' failed: {}", r.describe(), this, ex.id(), t.toString());
            }
            if (t instanceof Error e && !(t instanceof OutOfMemoryError)) {
                throw e;
            }
            String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            replyError(r, errno, message);
        } finally {
            release(r);
            ex.end();
            permits.release();
        }
    }

    private void handle(NbdExport ex, NbdRequest r) {
        Attachment a = ex.attachment();
        if ((r.flags() & ~KNOWN_CMD_FLAGS) != 0) {
            replyError(r, EINVAL, "unknown command flags 0x" + Integer.toHexString(r.flags()));
            return;
        }
        long size = a.length();
        switch (r.type()) {
            case CMD_READ -> {
                if (r.length() > settings.maxRequestSize()) {
                    replyError(r, EINVAL, "read of " + r.length() + " bytes exceeds the maximum " + settings.maxRequestSize());
                } else if (!inRange(r, size)) {
                    replyError(r, EINVAL, outOfRange(r, size));
                } else {
                    read(a, r);
                }
            }
            case CMD_WRITE -> {
                if (writeRefused(ex, r, size)) {
                    return;
                }
                a.write(r.offset(), java.util.Objects.requireNonNull(r.payload()));
                fuaAndReply(a, r);
            }
            case CMD_FLUSH -> {
                a.flush();
                replyOk(r);
            }
            case CMD_TRIM -> {
                if (writeRefused(ex, r, size)) {
                    return;
                }
                // a trimmed range reads as zeros afterwards: stricter than proto.md requires,
                // and never lets data of a backing layer show through again
                a.writeZeroes(r.offset(), r.length(), true);
                fuaAndReply(a, r);
            }
            case CMD_WRITE_ZEROES -> {
                if (writeRefused(ex, r, size)) {
                    return;
                }
                if (r.has(CMD_FLAG_FAST_ZERO)) {
                    replyError(r, ENOTSUP, "fast zeroing is not offered");
                    return;
                }
                a.writeZeroes(r.offset(), r.length(), !r.has(CMD_FLAG_NO_HOLE));
                fuaAndReply(a, r);
            }
            case CMD_CACHE -> {
                if (!inRange(r, size)) {
                    replyError(r, EINVAL, outOfRange(r, size));
                    return;
                }
                cache(a, r);
                replyOk(r);
            }
            case CMD_BLOCK_STATUS -> {
                if (!structured || (!baseAllocation && !allocationDepth)) {
                    replyError(r, EINVAL, "block status needs structured replies and a meta context");
                } else if (r.length() == 0 || !inRange(r, size)) {
                    replyError(r, EINVAL, outOfRange(r, size));
                } else {
                    blockStatus(a, r);
                }
            }
            default -> replyError(r, EINVAL, "unknown command " + r.type());
        }
    }

    private boolean writeRefused(NbdExport ex, NbdRequest r, long size) {
        if (!ex.writable()) {
            replyError(r, EPERM, "export '" + ex.id() + "' is read-only");
            return true;
        }
        if (!inRange(r, size)) {
            replyError(r, EINVAL, outOfRange(r, size));
            return true;
        }
        return false;
    }

    private void fuaAndReply(Attachment a, NbdRequest r) {
        if (r.has(CMD_FLAG_FUA)) {
            a.flush();
        }
        replyOk(r);
    }

    private static boolean inRange(NbdRequest r, long size) {
        return r.offset() >= 0 && r.offset() <= size && r.length() <= size - r.offset();
    }

    private static String outOfRange(NbdRequest r, long size) {
        return "request of " + r.length() + " bytes at " + Long.toUnsignedString(r.offset())
                + " lies outside the export (" + size + " bytes)";
    }

    static int errno(Throwable t) {
        if (t instanceof BlockException b) {
            return switch (b.kind()) {
                case INVALID_ARGUMENT -> EINVAL;
                case READ_ONLY -> EPERM;
                case NO_SPACE -> ENOSPC;
                default -> EIO;
            };
        }
        if (t instanceof IllegalStateException) {
            return ESHUTDOWN; // the attachment was closed: the export is gone
        }
        if (t instanceof OutOfMemoryError) {
            return ENOMEM;
        }
        return EIO;
    }

    /** CMD_CACHE as QEMU serves it: a prefetch, which copies into the top below a copy-on-read filter. */
    private void cache(Attachment a, NbdRequest r) {
        ByteBuffer scratch = buffers.acquire((int) Math.min(r.length(), CACHE_STEP));
        try {
            a.prefetch(r.offset(), r.length(), scratch);
        } finally {
            buffers.release(scratch);
        }
    }

    // ------------------------------------------------------------------ READ

    private void read(Attachment a, NbdRequest r) {
        int len = (int) r.length();
        ByteBuffer buf = buffers.acquire(len);
        try {
            a.read(r.offset(), buf);
            buf.flip();
            if (!structured) {
                ByteBuffer h = simpleHeader(r.cookie(), 0);
                send(h, buf);
            } else if (len == 0) {
                send(structuredHeader(REPLY_FLAG_DONE, CHUNK_NONE, r.cookie(), 0).flip());
            } else if (r.has(CMD_FLAG_DF) || len < 2 * HOLE_GRANULE) {
                sendDataChunk(r, buf);
            } else {
                sendChunks(r, buf);
            }
        } finally {
            buffers.release(buf);
        }
    }

    private void sendDataChunk(NbdRequest r, ByteBuffer data) {
        ByteBuffer h = structuredHeader(REPLY_FLAG_DONE, CHUNK_OFFSET_DATA, r.cookie(), 8 + data.remaining());
        h.putLong(r.offset()).flip();
        send(h, data);
    }

    /** Data and hole chunks: all-zero runs of whole 4 KiB granules become holes. */
    private void sendChunks(NbdRequest r, ByteBuffer buf) {
        int len = buf.remaining();
        List<int[]> runs = new ArrayList<>(); // {start, end, hole ? 1 : 0}
        for (int pos = 0; pos < len; ) {
            int end = Math.min(len, pos + HOLE_GRANULE);
            boolean hole = end - pos == HOLE_GRANULE && Zeros.isZero(buf, pos, end);
            int[] last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
            if (last != null && (last[2] == 1) == hole) {
                last[1] = end;
            } else {
                runs.add(new int[] {pos, end, hole ? 1 : 0});
            }
            pos = end;
        }
        if (runs.size() == 1 && runs.get(0)[2] == 0) {
            sendDataChunk(r, buf);
            return;
        }
        ByteBuffer[] parts = new ByteBuffer[runs.size() * 2];
        int n = 0;
        for (int i = 0; i < runs.size(); i++) {
            int[] run = runs.get(i);
            int flag = i == runs.size() - 1 ? REPLY_FLAG_DONE : 0;
            long at = r.offset() + run[0];
            if (run[2] == 1) {
                ByteBuffer h = structuredHeader(flag, CHUNK_OFFSET_HOLE, r.cookie(), 12);
                h.putLong(at).putInt(run[1] - run[0]).flip();
                parts[n++] = h;
            } else {
                ByteBuffer h = structuredHeader(flag, CHUNK_OFFSET_DATA, r.cookie(), 8 + run[1] - run[0]);
                h.putLong(at).flip();
                parts[n++] = h;
                ByteBuffer slice = buf.duplicate();
                slice.limit(run[1]).position(run[0]);
                parts[n++] = slice;
            }
        }
        send(java.util.Arrays.copyOf(parts, n));
    }

    // ------------------------------------------------------------------ BLOCK_STATUS

    private void blockStatus(Attachment a, NbdRequest r) {
        List<ChainExtent> extents = a.chainStatus(r.offset(), r.length());
        if (extents.isEmpty()) {
            replyError(r, EINVAL, "no allocation information for the range");
            return;
        }
        List<ByteBuffer> chunks = new ArrayList<>(2);
        if (baseAllocation) {
            chunks.add(descriptors(r, CONTEXT_ID_BASE_ALLOCATION, extents, false));
        }
        if (allocationDepth) {
            chunks.add(descriptors(r, CONTEXT_ID_ALLOCATION_DEPTH, extents, true));
        }
        // the last chunk ends the reply
        ByteBuffer last = chunks.get(chunks.size() - 1);
        last.putShort(4, (short) REPLY_FLAG_DONE);
        send(chunks.toArray(ByteBuffer[]::new));
    }

    private static ByteBuffer descriptors(NbdRequest r, int contextId, List<ChainExtent> extents, boolean depth) {
        List<long[]> out = new ArrayList<>();
        for (ChainExtent e : extents) {
            long flags;
            if (depth) {
                flags = e.kind() == ExtentKind.UNALLOCATED ? 0 : e.depth() + 1;
            } else {
                flags = e.kind() == ExtentKind.DATA ? 0 : STATE_HOLE | STATE_ZERO;
            }
            long[] prev = out.isEmpty() ? null : out.get(out.size() - 1);
            if (prev != null && prev[1] == flags) {
                prev[0] += e.length();
            } else {
                if (out.size() == MAX_DESCRIPTORS || (r.has(CMD_FLAG_REQ_ONE) && !out.isEmpty())) {
                    break;
                }
                out.add(new long[] {e.length(), flags});
            }
        }
        ByteBuffer b = structuredHeader(0, CHUNK_BLOCK_STATUS, r.cookie(), 4 + 8 * out.size());
        b.putInt(contextId);
        for (long[] d : out) {
            b.putInt((int) Math.min(d[0], 0xFFFFFFFFL)).putInt((int) d[1]);
        }
        return b.flip();
    }

    // ------------------------------------------------------------------ replies

    private static ByteBuffer simpleHeader(long cookie, int error) {
        return ByteBuffer.allocate(16).putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie).flip();
    }

    /** A structured reply header with room for {@code payload} bytes of payload, positioned after the header. */
    private static ByteBuffer structuredHeader(int flags, int type, long cookie, int payload) {
        ByteBuffer b = ByteBuffer.allocate(20 + (type == CHUNK_OFFSET_DATA ? 8 : payload));
        b.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie).putInt(payload);
        return b;
    }

    private void replyOk(NbdRequest r) {
        send(simpleHeader(r.cookie(), 0));
    }

    private void replyError(NbdRequest r, int errno, String message) {
        boolean structuredReply = structured && (r.type() == CMD_READ || r.type() == CMD_BLOCK_STATUS);
        if (!structuredReply) {
            send(simpleHeader(r.cookie(), errno));
            return;
        }
        byte[] msg = message.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(msg.length, 4096);
        ByteBuffer b = structuredHeader(REPLY_FLAG_DONE, CHUNK_ERROR, r.cookie(), 6 + n);
        b.putInt(errno).putShort((short) n).put(msg, 0, n).flip();
        send(b);
    }

    /** Writes one whole reply; a client that is gone is noticed by the reader. */
    private void send(ByteBuffer... parts) {
        writeLock.lock();
        try {
            if (socket.isOpen()) {
                ch.write(parts);
            }
        } catch (IOException e) {
            log.debug("Reply to client {} not delivered: {}", this, e.toString());
            close();
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public String toString() {
        String remote;
        try {
            remote = String.valueOf(socket.getRemoteAddress());
        } catch (IOException | RuntimeException e) {
            remote = "?";
        }
        return "#" + id + " (" + remote + ")";
    }
}
