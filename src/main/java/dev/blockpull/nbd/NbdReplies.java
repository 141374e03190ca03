package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.*;

import dev.blockpull.format.ChainExtent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission-phase replies of one connection, encoded as negotiated (simple or
 * structured), each written whole under one lock, in completion order, as NBD allows.
 */
final class NbdReplies {

    private static final Logger log = LoggerFactory.getLogger(NbdReplies.class);
    /** Zero runs shorter than this are sent as data: a hole chunk costs more than it saves. */
    private static final int HOLE_GRANULE = 4096;
    /** Longest error message a structured error chunk carries. */
    private static final int MAX_MESSAGE = 4096;

    private final NbdConnection connection;
    /** Checked before each write: a reply to a closed socket is dropped. */
    private final SocketChannel socket;

    private final NbdChannel ch;
    private final boolean structured;
    private final ReentrantLock writeLock = new ReentrantLock();

    NbdReplies(NbdConnection connection, SocketChannel socket, NbdChannel ch, boolean structured) {
        this.connection = connection;
        this.socket = socket;
        this.ch = ch;
        this.structured = structured;
    }

    void ok(NbdRequest r) {
        send(simpleHeader(r.cookie(), 0));
    }

    /** An error, with its message where the reply is structured (NBD_CMD_READ and BLOCK_STATUS). */
    void error(NbdRequest r, int errno, String message) {
        boolean structuredReply = structured && (r.type() == CMD_READ || r.type() == CMD_BLOCK_STATUS);
        if (!structuredReply) {
            send(simpleHeader(r.cookie(), errno));
            return;
        }
        byte[] msg = message.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(msg.length, MAX_MESSAGE);
        ByteBuffer b = structuredHeader(REPLY_FLAG_DONE, CHUNK_ERROR, r.cookie(), 6 + n);
        b.putInt(errno).putShort((short) n).put(msg, 0, n).flip();
        send(b);
    }

    /** The data of a read, {@code buf} flipped; structured, all-zero granules go as hole chunks. */
    void data(NbdRequest r, ByteBuffer buf) {
        int len = buf.remaining();
        if (!structured) {
            send(simpleHeader(r.cookie(), 0), buf);
        } else if (len == 0) {
            send(structuredHeader(REPLY_FLAG_DONE, CHUNK_NONE, r.cookie(), 0).flip());
        } else if (r.has(CMD_FLAG_DF) || len < 2 * HOLE_GRANULE) {
            dataChunk(r, buf);
        } else {
            chunks(r, buf);
        }
    }

    private void dataChunk(NbdRequest r, ByteBuffer data) {
        ByteBuffer h = structuredHeader(REPLY_FLAG_DONE, CHUNK_OFFSET_DATA, r.cookie(), 8 + data.remaining());
        h.putLong(r.offset()).flip();
        send(h, data);
    }

    private void chunks(NbdRequest r, ByteBuffer buf) {
        List<DataRun> runs = DataRun.split(buf, HOLE_GRANULE);
        if (runs.size() == 1 && !runs.get(0).hole()) {
            dataChunk(r, buf);
            return;
        }
        ByteBuffer[] parts = new ByteBuffer[runs.size() * 2];
        int n = 0;
        for (int i = 0; i < runs.size(); i++) {
            DataRun run = runs.get(i);
            int flag = i == runs.size() - 1 ? REPLY_FLAG_DONE : 0;
            long at = r.offset() + run.start();
            if (run.hole()) {
                ByteBuffer h = structuredHeader(flag, CHUNK_OFFSET_HOLE, r.cookie(), 12);
                h.putLong(at).putInt(run.length()).flip();
                parts[n++] = h;
            } else {
                ByteBuffer h = structuredHeader(flag, CHUNK_OFFSET_DATA, r.cookie(), 8 + run.length());
                h.putLong(at).flip();
                parts[n++] = h;
                parts[n++] = buf.duplicate().limit(run.end()).position(run.start());
            }
        }
        send(Arrays.copyOf(parts, n));
    }

    /** One block status chunk per meta context the client set. */
    void blockStatus(NbdRequest r, List<ChainExtent> extents, boolean baseAllocation, boolean allocationDepth) {
        boolean reqOne = r.has(CMD_FLAG_REQ_ONE);
        List<ByteBuffer> chunks = new ArrayList<>(2);
        if (baseAllocation) {
            chunks.add(descriptors(r, CONTEXT_ID_BASE_ALLOCATION, StatusDescriptor.of(extents, false, reqOne)));
        }
        if (allocationDepth) {
            chunks.add(descriptors(r, CONTEXT_ID_ALLOCATION_DEPTH, StatusDescriptor.of(extents, true, reqOne)));
        }
        // the last chunk ends the reply
        chunks.get(chunks.size() - 1).putShort(4, (short) REPLY_FLAG_DONE);
        send(chunks.toArray(ByteBuffer[]::new));
    }

    private static ByteBuffer descriptors(NbdRequest r, int contextId, List<StatusDescriptor> descriptors) {
        ByteBuffer b = structuredHeader(0, CHUNK_BLOCK_STATUS, r.cookie(), 4 + 8 * descriptors.size());
        b.putInt(contextId);
        for (StatusDescriptor d : descriptors) {
            b.putInt(d.wireLength()).putInt(d.flags());
        }
        return b.flip();
    }

    private static ByteBuffer simpleHeader(long cookie, int error) {
        return ByteBuffer.allocate(16)
                .putInt(SIMPLE_REPLY_MAGIC)
                .putInt(error)
                .putLong(cookie)
                .flip();
    }

    /** A structured reply header with room for {@code payload} bytes of payload, positioned after the header. */
    private static ByteBuffer structuredHeader(int flags, int type, long cookie, int payload) {
        ByteBuffer b = ByteBuffer.allocate(20 + (type == CHUNK_OFFSET_DATA ? 8 : payload));
        b.putInt(STRUCTURED_REPLY_MAGIC)
                .putShort((short) flags)
                .putShort((short) type)
                .putLong(cookie)
                .putInt(payload);
        return b;
    }

    /** Writes one whole reply; a client that is gone is noticed by the reader. */
    private void send(ByteBuffer... parts) {
        writeLock.lock();
        try {
            if (socket.isOpen()) {
                ch.write(parts);
            }
        } catch (IOException e) {
            log.debug("Reply to client {} not delivered: {}", connection, e.toString());
            connection.close();
        } finally {
            writeLock.unlock();
        }
    }
}
