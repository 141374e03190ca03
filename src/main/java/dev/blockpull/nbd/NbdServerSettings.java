package dev.blockpull.nbd;

import java.time.Duration;

/**
 * Tuning of the NBD server.
 *
 * @param bindAddress          address to listen on ({@code 0.0.0.0}: every interface)
 * @param port                 TCP port; 0 picks a free one (the Spring wiring treats 0 as "off" and
 *                             never starts a server then)
 * @param workerThreads        threads processing requests of every connection
 * @param maxInFlightPerClient requests one connection may have in flight; its reader stops
 *                             reading while that many are being processed (back-pressure)
 * @param maxRequestSize       largest READ/WRITE/CACHE payload, advertised as the maximum block
 *                             size; larger reads are EINVAL, a larger write disconnects the client
 *                             (its payload cannot be skipped safely)
 * @param maxConnections       connections at once, of all clients; more are refused at accept
 * @param maxConnectionsPerClient connections at once from one client address; more are refused
 * @param handshakeTimeout     a client that has not finished negotiating by then is disconnected
 * @param busyPoll             how long a connection's reader spins on its socket before a read that
 *                             would block, while its client is quick (see {@link BusyPoll}); zero: never
 * @param allowInsecure        whether the server may listen on an address other than loopback
 *                             without TLS (anyone who reaches it can then read and write every export)
 */
public record NbdServerSettings(
        String bindAddress,
        int port,
        int workerThreads,
        int maxInFlightPerClient,
        int maxRequestSize,
        int maxConnections,
        int maxConnectionsPerClient,
        Duration handshakeTimeout,
        Duration busyPoll,
        boolean allowInsecure) {

    /** 32 MiB, QEMU's NBD_MAX_BUFFER_SIZE. */
    public static final int DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024;
    /** 50 µs: above a loopback round trip at queue depth 1, on the order of QEMU's poll-max-ns (32 µs). */
    public static final Duration DEFAULT_BUSY_POLL = Duration.ofNanos(50_000);
    /** A spin longer than a millisecond only burns a CPU that a blocked reader would give back. */
    static final Duration MAX_BUSY_POLL = Duration.ofMillis(1);

    public NbdServerSettings {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535: " + port);
        }
        if (workerThreads < 1 || maxInFlightPerClient < 1 || maxConnections < 1 || maxConnectionsPerClient < 1) {
            throw new IllegalArgumentException(
                    "workerThreads, maxInFlightPerClient, maxConnections and maxConnectionsPerClient must be positive");
        }
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshakeTimeout must be positive: " + handshakeTimeout);
        }
        if (busyPoll.isNegative() || busyPoll.compareTo(MAX_BUSY_POLL) > 0) {
            throw new IllegalArgumentException(
                    "busyPoll must be 0.." + MAX_BUSY_POLL.toNanos() / 1000 + "us: " + busyPoll);
        }
        if (maxRequestSize < 4096 || Integer.bitCount(maxRequestSize) != 1) {
            throw new IllegalArgumentException(
                    "maxRequestSize must be a power of two of at least 4096: " + maxRequestSize);
        }
    }

    /**
     * No plain NBD beyond loopback, 16 workers, 64 requests per client, 32 MiB requests, 256 connections of
     * which 32 from one address, 5 s to finish the handshake (qemu-nbd gives 10 s; a client on the
     * same network negotiates in milliseconds, and a half-open connection holds a thread), a 50 µs busy poll.
     */
    public static NbdServerSettings defaults(String bindAddress, int port) {
        return new NbdServerSettings(
                bindAddress,
                port,
                16,
                64,
                DEFAULT_MAX_REQUEST_SIZE,
                256,
                32,
                Duration.ofSeconds(5),
                DEFAULT_BUSY_POLL,
                false);
    }

    public NbdServerSettings withWorkerThreads(int n) {
        return new NbdServerSettings(
                bindAddress,
                port,
                n,
                maxInFlightPerClient,
                maxRequestSize,
                maxConnections,
                maxConnectionsPerClient,
                handshakeTimeout,
                busyPoll,
                allowInsecure);
    }

    public NbdServerSettings withHandshakeTimeout(Duration timeout) {
        return new NbdServerSettings(
                bindAddress,
                port,
                workerThreads,
                maxInFlightPerClient,
                maxRequestSize,
                maxConnections,
                maxConnectionsPerClient,
                timeout,
                busyPoll,
                allowInsecure);
    }

    public NbdServerSettings withConnectionLimits(int total, int perClient) {
        return new NbdServerSettings(
                bindAddress,
                port,
                workerThreads,
                maxInFlightPerClient,
                maxRequestSize,
                total,
                perClient,
                handshakeTimeout,
                busyPoll,
                allowInsecure);
    }

    public NbdServerSettings withAllowInsecure(boolean allow) {
        return new NbdServerSettings(
                bindAddress,
                port,
                workerThreads,
                maxInFlightPerClient,
                maxRequestSize,
                maxConnections,
                maxConnectionsPerClient,
                handshakeTimeout,
                busyPoll,
                allow);
    }

    public NbdServerSettings withBusyPoll(Duration window) {
        return new NbdServerSettings(
                bindAddress,
                port,
                workerThreads,
                maxInFlightPerClient,
                maxRequestSize,
                maxConnections,
                maxConnectionsPerClient,
                handshakeTimeout,
                window,
                allowInsecure);
    }
}
