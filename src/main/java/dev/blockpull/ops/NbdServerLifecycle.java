package dev.blockpull.ops;

import dev.blockpull.nbd.NbdServer;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.springframework.context.SmartLifecycle;

/**
 * Starts the NBD server with the context and stops it after the web server (a lower phase stops
 * later): on SIGTERM HTTP stops taking requests first, then NBD clients are disconnected once
 * their running requests answered, then the graph closes with the context.
 */
public class NbdServerLifecycle extends PhasedLifecycle {

    /** Below the web server's graceful-shutdown (DEFAULT_PHASE - 1024) and start/stop (- 2048) phases. */
    static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private final @Nullable NbdServer server;

    NbdServerLifecycle(@Nullable NbdServer server) {
        super(PHASE);
        this.server = server;
    }

    /** The server, absent when {@code blockpull.nbd.port} is 0. */
    public Optional<NbdServer> server() {
        return Optional.ofNullable(server);
    }

    @Override
    protected void onStart() {
        if (server != null) {
            server.start();
        }
    }

    @Override
    protected void onStop() {
        if (server != null) {
            server.close();
        }
    }
}
