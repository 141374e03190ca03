package dev.blockpull.ops;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import java.nio.file.Path;
import java.time.Duration;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Every {@code blockpull.*} setting, bound once and validated at start-up: a bad value stops the
 * service with a clear message instead of surfacing later as a strange runtime error.
 *
 * @param dataRoot the only directory images are opened from or created in
 * @param stateDir where the state that survives a restart lives; default
 *                 {@code <data-root>/.blockpull}, which no image name can reach
 */
@ConfigurationProperties("blockpull")
@Validated
public record BlockpullProperties(
        @DefaultValue("./data") @NotNull Path dataRoot,
        @DefaultValue @Valid Nbd nbd,
        @DefaultValue @Valid Io io,
        @DefaultValue @Valid Security security,
        @DefaultValue @Valid Jobs jobs,
        @DefaultValue @Valid Graph graph,
        @DefaultValue @Valid Stream stream,
        @DefaultValue @Valid Http http,
        @DefaultValue @Valid Debug debug,
        @Nullable Path stateDir) {

    /** The state directory name inside the data root, unless {@code blockpull.state-dir} says otherwise. */
    public static final String DEFAULT_STATE_DIR = ".blockpull";

    /** {@link #stateDir()} with its default applied. */
    public Path stateDirectory() {
        return stateDir != null ? stateDir : dataRoot.resolve(DEFAULT_STATE_DIR);
    }

    /**
     * @param port          NBD listener port; 0 turns the NBD server off
     * @param bindAddress   address the NBD listener binds to; loopback by default: plain NBD has
     *                      no authentication, so other addresses need TLS or {@code allowInsecure}
     * @param allowInsecure allow a bind address beyond loopback without TLS (a warning at start-up)
     * @param workerThreads threads serving NBD requests of all connections
     * @param maxConnections NBD connections at once (each holds a thread); more are refused
     * @param maxConnectionsPerClient NBD connections at once from one client address
     * @param handshakeTimeout a client that has not finished negotiating by then is disconnected
     * @param busyPoll      how long a connection's reader spins on its socket before it blocks, while its
     *                      client sends quickly (saves the wake-up at queue depth 1); 0 turns it off
     * @param tls           NBD over TLS (NBD_OPT_STARTTLS); off while no file is set
     */
    public record Nbd(
            @DefaultValue("10809") @Min(0) @Max(65535) int port,
            @DefaultValue("127.0.0.1") @NotBlank String bindAddress,
            @DefaultValue("false") boolean allowInsecure,
            @DefaultValue("16") @Min(1) @Max(1024) int workerThreads,
            @DefaultValue("256") @Min(1) @Max(65536) int maxConnections,
            @DefaultValue("32") @Min(1) @Max(65536) int maxConnectionsPerClient,
            @DefaultValue("5s") @NotNull Duration handshakeTimeout,

            @DefaultValue("50us") @NotNull @DurationMin(nanos = 0) @DurationMax(millis = 1)
            Duration busyPoll,

            @DefaultValue @Valid NbdTls tls) {}

    /**
     * PEM files of NBD over TLS, re-read when they change (new connections use the new ones).
     *
     * @param certificate the server's certificate chain, leaf first
     * @param privateKey  its unencrypted private key (PKCS#8, PKCS#1 or SEC1)
     * @param ca          CA certificates: when set, clients must present a certificate they issued
     */
    public record NbdTls(
            @Nullable Path certificate,
            @Nullable Path privateKey,
            @Nullable Path ca) {}

    /**
     * @param direct         open image files with O_DIRECT, bypassing the page cache
     * @param bufferPoolSize most direct memory the I/O buffer pool keeps idle for reuse (the copy
     *                       loop, copy-on-read, NBD and O_DIRECT bounces all take from it)
     */
    public record Io(
            @DefaultValue("false") boolean direct,
            @DefaultValue("64MB") @NotNull DataSize bufferPoolSize) {}

    /**
     * @param copiesInFlight copies one unthrottled stream job keeps in flight (1 = QEMU's loop)
     * @param maxCopySize    most bytes of adjacent 512 KiB chunks one copy request moves; each
     *                       copy in flight holds a pooled buffer of this size
     * @param warmUp         stream a small private chain in the temporary directory before the
     *                       service reports ready, so that the first job runs on compiled code
     * @param copierThreads  threads all stream jobs share for their extra copies in flight; when
     *                       they are all busy a job copies on its own thread (fewer copies overlap)
     */
    public record Stream(
            @DefaultValue("8") @Min(1) @Max(64) int copiesInFlight,
            @DefaultValue("2MB") @NotNull DataSize maxCopySize,
            @DefaultValue("true") boolean warmUp,
            @DefaultValue("32") @Min(1) @Max(1024) int copierThreads) {}

    /**
     * @param token          when set, API calls need {@code Authorization: Bearer <token>}
     * @param protectMetrics with a token set, {@code /actuator/prometheus} needs it too
     */
    public record Security(
            @Nullable String token, @DefaultValue("false") boolean protectMetrics) {}

    /**
     * @param historySize     finished jobs kept readable after they are dismissed
     * @param historyMaxAge   how long a dismissed job stays readable
     * @param shutdownTimeout on shutdown, how long jobs get to park at a pause point and wind up
     * @param stuckTimeout    a job that has not reached a pause point for this long while a drain
     *                        waits for it turns liveness DOWN (the scheduler is stuck)
     * @param eventsHeartbeat interval of the keep-alive comment on {@code /jobs/events}
     * @param eventsTimeout   an SSE stream is closed after this long (the client reconnects
     *                        with Last-Event-ID)
     * @param progressInterval least time between two JOB_PROGRESS events of one running job
     * @param resumeOnStart   jobs recorded as unfinished are set up again and resumed at start-up,
     *                        and SIGTERM parks jobs for that; false: SIGTERM cancels them and a
     *                        start does not resume them (QEMU's behaviour)
     */
    public record Jobs(
            @DefaultValue("1000") @Positive int historySize,
            @DefaultValue("1h") @NotNull Duration historyMaxAge,
            @DefaultValue("20s") @NotNull Duration shutdownTimeout,
            @DefaultValue("5m") @NotNull Duration stuckTimeout,
            @DefaultValue("15s") @NotNull Duration eventsHeartbeat,
            @DefaultValue("30m") @NotNull Duration eventsTimeout,
            @DefaultValue("1s") @NotNull Duration progressInterval,
            @DefaultValue("true") boolean resumeOnStart) {}

    /**
     * @param maxChainDepth most layers a backing chain may have, top included; deeper chains
     *                      (or loops in backing-file names) are refused
     * @param drainTimeout  a drain waiting longer than this turns readiness DOWN (the drain goes on
     *                      waiting); API operations that drain give up after twice this
     */
    public record Graph(
            @DefaultValue("64") @Min(1) @Max(1024) int maxChainDepth,
            @DefaultValue("30s") @NotNull Duration drainTimeout) {

        /** How long an API operation that drains (closing a node, removing an export) waits. */
        public Duration maxDrainWait() {
            return drainTimeout.multipliedBy(2);
        }
    }

    /**
     * @param faultInjection allow {@code blkdebug} fault-injection filters on {@code /nodes}: for
     *                       rehearsing failures and testing on-error policies, never in production
     */
    public record Debug(@DefaultValue("false") boolean faultInjection) {}

    /** @param maxRequestSize larger request bodies are refused with 413 before they are read */
    public record Http(@DefaultValue("1MB") @NotNull DataSize maxRequestSize) {}
}
