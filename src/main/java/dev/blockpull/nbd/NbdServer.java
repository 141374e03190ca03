package dev.blockpull.nbd;

import dev.blockpull.io.BufferPool;
import dev.blockpull.io.DaemonThreads;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NBD listener. One acceptor thread; one reader thread per connection; a fixed pool of
 * workers shared by all connections processes the requests (the pool's queue is bounded by the
 * per-connection limit times the connection limit). Connections are limited in all and per
 * client address; one over a limit is refused with a reason ({@link NbdRefusals}), and one that
 * does not finish its handshake in time is dropped, so threads stay bounded whatever clients do. Stopping closes the listener, disconnects
 * every client after its running requests answered, and ends every thread it started.
 */
public final class NbdServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final ExportRegistry registry;
    private final NbdServerSettings settings;
    private final @Nullable TlsCredentials tls;
    private final BufferPool.Account buffers;
    private final Map<NbdConnection, Thread> connections = new ConcurrentHashMap<>();
    /** The client address of each connection, for the per-client limit. */
    private final Map<NbdConnection, InetAddress> clients = new ConcurrentHashMap<>();

    private NbdRefusals refusals;
    private ServerSocketChannel listener;
    private Thread acceptor;
    private ThreadPoolExecutor workers;
    private ScheduledThreadPoolExecutor timer;
    private volatile boolean running;
    /** Plain NBD beyond loopback, allowed by the settings: warned about at start. */
    private boolean insecure;
    /** Every thread of this server is named with it, e.g. {@code nbd-1-worker-3}, {@code nbd-1-client-7}. */
    private final String threadPrefix = "nbd-" + INSTANCES.incrementAndGet() + "-";
    /** A connection's thread reads its requests and answers those at queue depth 1 itself. */
    private final DaemonThreads clientThreads = DaemonThreads.dataPath(threadPrefix + "client-");

    /** A server without TLS. */
    public NbdServer(ExportRegistry registry, NbdServerSettings settings) {
        this(registry, settings, null);
    }

    /** @param tls the credentials clients must start TLS with before anything else; null: no TLS */
    public NbdServer(ExportRegistry registry, NbdServerSettings settings, @Nullable TlsCredentials tls) {
        this(registry, settings, tls, BufferPool.shared());
    }

    /** With the buffers of {@code pool} instead of the process's (tests that run short of memory). */
    NbdServer(ExportRegistry registry, NbdServerSettings settings, @Nullable TlsCredentials tls, BufferPool pool) {
        this.registry = registry;
        this.settings = settings;
        this.tls = tls;
        this.buffers = pool.account();
    }

    /**
     * Binds and starts accepting.
     *
     * @throws UncheckedIOException     when the port cannot be bound
     * @throws InsecureNbdBindException for an address beyond loopback without TLS, unless allowed
     */
    public synchronized void start() {
        if (running) {
            return;
        }
        InetSocketAddress address = new InetSocketAddress(settings.bindAddress(), settings.port());
        checkExposure(address);
        try {
            listener = ServerSocketChannel.open();
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(address, 128);
        } catch (IOException e) {
            closeQuietly();
            throw new UncheckedIOException(
                    "Cannot listen for NBD on " + settings.bindAddress() + ":" + settings.port() + ": "
                            + e.getMessage(),
                    e);
        }
        workers = new ThreadPoolExecutor(
                settings.workerThreads(),
                settings.workerThreads(),
                60,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                DaemonThreads.dataPath(threadPrefix + "worker-"));
        workers.prestartAllCoreThreads();
        timer = new ScheduledThreadPoolExecutor(1, DaemonThreads.named(threadPrefix + "timer-"));
        timer.setRemoveOnCancelPolicy(true);
        timer.prestartAllCoreThreads();
        refusals = new NbdRefusals(DaemonThreads.named(threadPrefix + "refuse-"));
        running = true;
        acceptor = DaemonThreads.named(threadPrefix + "accept-").newThread(this::acceptLoop);
        acceptor.start();
        log.info(
                "NBD server listening on {}:{}{}",
                settings.bindAddress(),
                port(),
                tls == null
                        ? " without TLS"
                        : " with TLS ("
                                + (tls.verifiesClients() ? "client certificates required" : "no client certificates")
                                + ")");
        if (insecure) {
            log.warn(
                    "NBD is served without TLS on {}:{} (blockpull.nbd.allow-insecure=true): anyone who reaches it"
                            + " can read and write every export",
                    settings.bindAddress(),
                    port());
        }
    }

    /**
     * Plain NBD has neither authentication nor encryption: whoever reaches the port reads and
     * writes every export. So without TLS it stays on loopback unless explicitly allowed.
     */
    private void checkExposure(InetSocketAddress address) {
        // an unknown host name is left to the bind, which fails with its own message
        if (tls != null || address.isUnresolved() || address.getAddress().isLoopbackAddress()) {
            return;
        }
        if (!settings.allowInsecure()) {
            throw new InsecureNbdBindException("Refusing to serve NBD without TLS on " + settings.bindAddress()
                    + ", which is not a loopback address: anyone who reaches port " + settings.port()
                    + " could read and write every export. Configure TLS (blockpull.nbd.tls.certificate and"
                    + " blockpull.nbd.tls.private-key), bind to 127.0.0.1 (blockpull.nbd.bind-address), or accept"
                    + " the risk with blockpull.nbd.allow-insecure=true");
        }
        insecure = true;
    }

    /** The port bound (the configured one, or the one picked for port 0); -1 when not running. */
    public int port() {
        ServerSocketChannel l = listener;
        try {
            return l == null || !l.isOpen() ? -1 : ((InetSocketAddress) l.getLocalAddress()).getPort();
        } catch (IOException e) {
            return -1;
        }
    }

    public boolean isRunning() {
        return running;
    }

    public int connectionCount() {
        return connections.size();
    }

    /** The payload buffers; tests check that none is left outstanding. */
    public BufferPool.Account buffers() {
        return buffers;
    }

    /** The name prefix of every thread this server starts. */
    public String threadPrefix() {
        return threadPrefix;
    }

    public ExportRegistry registry() {
        return registry;
    }

    private void acceptLoop() {
        while (running) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (running) {
                    log.warn("NBD accept failed: {}", e.toString());
                }
                continue;
            }
            try {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                if (!running) {
                    ch.close();
                    continue;
                }
                InetAddress client = ((InetSocketAddress) ch.getRemoteAddress()).getAddress();
                String overLimit = overLimit(client);
                if (overLimit != null) {
                    refusals.refuse(ch, overLimit);
                    continue;
                }
                NbdConnection c = new NbdConnection(ch, tls, this, registry, workers, buffers, settings);
                Thread t = clientThreads.newThread(c, threadPrefix + "client-" + c.id());
                clients.put(c, client);
                connections.put(c, t);
                long timeout = settings.handshakeTimeout().toMillis();
                timer.schedule(
                        () -> {
                            if (c.isNegotiating()) {
                                log.info("NBD client {} did not finish its handshake in {} ms", c, timeout);
                                c.close();
                            }
                        },
                        timeout,
                        TimeUnit.MILLISECONDS);
                t.start();
            } catch (IOException | RuntimeException e) {
                log.warn("Could not set up NBD client: {}", e.toString());
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // nothing more to do
                }
            }
        }
    }

    /** Why {@code client} may not connect now, or null. Only the acceptor thread adds connections. */
    private @Nullable String overLimit(InetAddress client) {
        if (connections.size() >= settings.maxConnections()) {
            return "too many NBD connections (the server's limit is " + settings.maxConnections()
                    + ", blockpull.nbd.max-connections); close some and retry";
        }
        long fromClient = clients.values().stream().filter(client::equals).count();
        if (fromClient >= settings.maxConnectionsPerClient()) {
            return "too many NBD connections from " + client.getHostAddress() + " (the limit is "
                    + settings.maxConnectionsPerClient() + " per client, blockpull.nbd.max-connections-per-client);"
                    + " close some and retry";
        }
        return null;
    }

    /** Connections refused because of a limit since the start. */
    public long refusedConnections() {
        NbdRefusals r = refusals;
        return r == null ? 0 : r.refusedCount();
    }

    void connectionClosed(NbdConnection c) {
        clients.remove(c);
        connections.remove(c);
    }

    /** Stops listening, disconnects every client, and ends every thread of the server. */
    @Override
    public synchronized void close() {
        if (!running) {
            return;
        }
        running = false;
        closeQuietly();
        joinQuietly(acceptor);
        List<Map.Entry<NbdConnection, Thread>> open = List.copyOf(connections.entrySet());
        // readers stop, running requests answer, then each connection closes itself
        open.forEach(e -> e.getKey().stopReading());
        open.forEach(e -> joinQuietly(e.getValue()));
        open.forEach(e -> e.getKey().close());
        workers.shutdown();
        timer.shutdownNow();
        refusals.close();
        try {
            if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info("NBD server stopped");
    }

    private void closeQuietly() {
        try {
            if (listener != null) {
                listener.close();
            }
        } catch (IOException ignored) {
            // stopping anyway
        }
    }

    private static void joinQuietly(Thread t) {
        if (t == null) {
            return;
        }
        try {
            t.join(TimeUnit.SECONDS.toMillis(70));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
