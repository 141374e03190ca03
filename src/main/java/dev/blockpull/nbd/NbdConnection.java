package dev.blockpull.nbd;

import dev.blockpull.io.BufferPool;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client: the handshake, then a reader (this connection's own thread) that decodes requests
 * ({@link NbdRequestReader}) and hands them to the server's worker pool, which carries them out
 * ({@link NbdCommands}), at most {@code maxInFlightPerClient} at once, so
 * that many requests of one client run concurrently. A request that arrives alone (nothing in
 * flight, nothing further read ahead) is processed on the reader thread itself: at queue depth 1
 * the two thread handoffs would cost more than the request. Replies ({@link NbdReplies}) go out
 * in completion order, as NBD allows. A client that breaks the framing is disconnected; the requests
 * it already sent still finish (they may be writes the client waits for) and release their
 * buffers, then the socket closes.
 */
final class NbdConnection implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(NbdConnection.class);
    private static final AtomicLong IDS = new AtomicLong();

    private final long id = IDS.incrementAndGet();
    /** The client's socket: closing or shutting it down ends the TLS over it too. */
    private final SocketChannel socket;

    private final @Nullable TlsCredentials tls;
    private final NbdServer server;
    private final ExportRegistry registry;
    private final ExecutorService workers;
    private final BufferPool.Account buffers;
    private final NbdServerSettings settings;
    private final Semaphore permits;
    private volatile boolean closed;
    private volatile boolean negotiating = true;
    private @Nullable NbdExport export;

    NbdConnection(
            SocketChannel socket,
            @Nullable TlsCredentials tls,
            NbdServer server,
            ExportRegistry registry,
            ExecutorService workers,
            BufferPool.Account buffers,
            NbdServerSettings settings) {
        this.socket = socket;
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
            NbdHandshake.Negotiated n = new NbdHandshake(socket, tls, registry, this, settings).run();
            negotiating = false;
            if (n == null) {
                return;
            }
            export = n.export();
            NbdReplies replies = new NbdReplies(this, socket, n.channel(), n.structuredReplies());
            transmission(
                    n.export(),
                    new NbdRequestReader(n.channel(), buffers, settings.maxRequestSize()),
                    new NbdCommands(this, replies, buffers, settings.maxRequestSize(), n));
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

    /** Whether none of this client's requests is in flight. */
    boolean quiet() {
        return permits.availablePermits() == settings.maxInFlightPerClient();
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

    // ------------------------------------------------------------------ transmission: reading, back-pressure

    private void transmission(NbdExport ex, NbdRequestReader requests, NbdCommands commands)
            throws IOException, NbdProtocolException {
        int max = settings.maxInFlightPerClient();
        while (!closed) {
            NbdRequest r = requests.next();
            if (r == null) {
                log.debug("Client {} disconnects", this);
                return;
            }
            // Nothing else in flight and no further request already read: the client waits for
            // this one reply (queue depth 1), so answer it on this thread and spare two handoffs.
            // Otherwise hand it to the workers so that requests run concurrently.
            boolean inline = !requests.hasReadAhead() && quiet();
            submit(ex, r, inline, commands);
        }
    }

    private void submit(NbdExport ex, NbdRequest r, boolean inline, NbdCommands commands) throws IOException {
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            release(r);
            Thread.currentThread().interrupt();
            throw new ClosedChannelException();
        }
        if (!ex.begin()) {
            try {
                commands.refuse(r, "export is being removed");
            } finally {
                release(r);
                permits.release();
            }
            return;
        }
        if (inline) {
            process(ex, r, commands);
            return;
        }
        try {
            workers.execute(() -> process(ex, r, commands));
        } catch (RejectedExecutionException e) {
            try {
                commands.refuse(r, "server is shutting down");
            } finally {
                release(r);
                ex.end();
                permits.release();
            }
        }
    }

    /** On the reader or a worker: runs the request, then gives back what it held. */
    private void process(NbdExport ex, NbdRequest r, NbdCommands commands) {
        try {
            commands.execute(ex, r);
        } finally {
            release(r);
            ex.end();
            permits.release();
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
