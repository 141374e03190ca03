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
        boolean allowInsecure) {

    /** 32 MiB, QEMU's NBD_MAX_BUFFER_SIZE. */
    public static final int DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024;

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
        if (maxRequestSize < 4096 || Integer.bitCount(maxRequestSize) != 1) {
            throw new IllegalArgumentException(
                    "maxRequestSize must be a power of two of at least 4096: " + maxRequestSize);
        }
    }

    /**
     * No plain NBD beyond loopback, 16 workers, 64 requests per client, 32 MiB requests, 256 connections of
     * which 32 from one address, 5 s to finish the handshake (qemu-nbd gives 10 s; a client on the
     * same network negotiates in milliseconds, and a half-open connection holds a thread).
     */
    public static NbdServerSettings defaults(String bindAddress, int port) {
        return new NbdServerSettings(
                bindAddress, port, 16, 64, DEFAULT_MAX_REQUEST_SIZE, 256, 32, Duration.ofSeconds(5), false);
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
                allow);
    }
}
