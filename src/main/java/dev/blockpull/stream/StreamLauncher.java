package dev.blockpull.stream;

import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.io.DaemonThreads;
import dev.blockpull.job.JobHandle;
import dev.blockpull.job.JobResumption;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Starts stream jobs: QMP's {@code block-stream}. Checks the request against the graph in
 * QEMU's order and with QEMU's messages (stream-semantics §2.1), leaving nothing behind on
 * failure; sets up the chain (§2.2) and hands the job to the scheduler. A dry run answers what a
 * start would do after the same checks.
 */
public final class StreamLauncher {

    private static final Logger log = LoggerFactory.getLogger(StreamLauncher.class);

    private final NodeGraph graph;
    private final StreamChecks checks;
    private final StreamSetup setup;
    private final StreamDryRunner dryRunner;
    private final JobScheduler scheduler;
    private final CopyMeters meters = new CopyMeters();
    private final List<StreamStartListener> startListeners = new CopyOnWriteArrayList<>();

    public static final int DEFAULT_COPIER_THREADS = 32;

    public StreamLauncher(NodeGraph graph, JobScheduler scheduler) {
        this(graph, scheduler, StreamSettings.defaults());
    }

    public StreamLauncher(NodeGraph graph, JobScheduler scheduler, StreamSettings settings) {
        this(graph, scheduler, settings, DEFAULT_COPIER_THREADS);
    }

    /** @param copierThreads threads every job shares for its extra copies in flight */
    public StreamLauncher(NodeGraph graph, JobScheduler scheduler, StreamSettings settings, int copierThreads) {
        this.graph = graph;
        this.scheduler = scheduler;
        this.checks = new StreamChecks(graph);
        this.setup = new StreamSetup(graph, scheduler, settings, copierPool(copierThreads), meters);
        this.dryRunner = new StreamDryRunner(graph, scheduler, settings, meters);
    }

    /** Validates, sets up and starts a stream job; returns its view right after start. */
    public JobView start(StreamRequest request) {
        return start(request, false);
    }

    /**
     * {@link #start(StreamRequest)} with QMP's {@code backing-mask-protocol}: write {@code raw}
     * instead of a protocol driver's name as the backing format (QEMU 9.0).
     */
    public JobView start(StreamRequest request, boolean backingMaskProtocol) {
        return start(request, backingMaskProtocol, null);
    }

    /**
     * Sets up and starts again a job recorded before a service restart, with its id and
     * arguments (node names as they are after the restart); the same checks apply. The copy loop
     * skips what the top already holds, so only what is left gets copied.
     */
    public JobView resume(StreamRequest request, JobResumption resumption) {
        return start(request, false, resumption);
    }

    /** Tells {@code listener} of every job started or resumed from now on. */
    public void addStartListener(StreamStartListener listener) {
        startListeners.add(listener);
    }

    private JobView start(StreamRequest request, boolean backingMaskProtocol, @Nullable JobResumption resumption) {
        // QEMU runs block-stream under the big lock: check-then-block must not interleave with
        // another start on the same graph, or two jobs could both pass the busy check.
        synchronized (graph) {
            StreamPlan plan = checks.check(request, backingMaskProtocol);
            StreamOrigin origin = origin(plan);
            // per-job copy counters live while the scheduler knows the job (not dismissed)
            meters.forgetJobs(id ->
                    scheduler.find(id).map(v -> v.status() == JobStatus.NULL).orElse(true));
            try (MDC.MDCCloseable j = MDC.putCloseable("jobId", plan.jobId());
                    MDC.MDCCloseable n = MDC.putCloseable("node", plan.device().name())) {
                JobHandle handle = setup.start(plan, resumption);
                log.info(
                        "Stream job {} started on {} (base {}, bottom {})",
                        plan.jobId(),
                        plan.device().name(),
                        plan.base() == null ? "none" : plan.base().name(),
                        plan.bottom() == null ? "none" : plan.bottom().name());
                JobView view = handle.view();
                StreamRequest resolved = withJobId(plan.request(), plan.jobId());
                for (StreamStartListener l : startListeners) {
                    l.started(resolved, origin, view);
                }
                return view;
            }
        }
    }

    private StreamOrigin origin(StreamPlan plan) {
        StreamRoles roles = StreamRoles.of(plan);
        BlockNode base = roles.currentBase();
        return new StreamOrigin(
                Objects.requireNonNullElse(fileOf(roles.top()), roles.top().name()),
                fileOf(BackingChain.chainNext(roles.top())),
                fileOf(base),
                fileOf(plan.base()),
                fileOf(plan.bottom()));
    }

    private @Nullable String fileOf(@Nullable BlockNode node) {
        return node == null ? null : graph.filename(BackingChain.skipFilters(node));
    }

    private static StreamRequest withJobId(StreamRequest r, String jobId) {
        return new StreamRequest(
                jobId,
                r.device(),
                r.base(),
                r.baseNode(),
                r.bottom(),
                r.backingFile(),
                r.speed(),
                r.onError(),
                r.filterNodeName(),
                r.autoFinalize(),
                r.autoDismiss());
    }

    /**
     * What {@link #start(StreamRequest)} would do with this request, without doing any of it; the
     * same checks fail with the same errors (a job id in use included: the start would fail).
     */
    public StreamDryRun dryRun(StreamRequest request) {
        // Under the start's lock, so the answer describes the graph between two starts, never halfway.
        synchronized (graph) {
            return dryRunner.answer(checks.check(request, false));
        }
    }

    /** Bytes copied by every stream job since start-up: {@code blockpull_stream_copied_bytes_total}. */
    public long copiedBytesTotal() {
        return meters.total();
    }

    /**
     * Bytes copied by the stream job {@code jobId}, while the scheduler knows it (a dismissed
     * job's counter is dropped at the next start); empty for other jobs.
     */
    public OptionalLong copiedBytes(String jobId) {
        return meters.copied(jobId);
    }

    /** Tells {@code observer} of every copy request of every stream job from now on. */
    public void addCopyObserver(CopyObserver observer) {
        meters.addObserver(observer);
    }

    public void removeCopyObserver(CopyObserver observer) {
        meters.removeObserver(observer);
    }

    /**
     * Threads that carry the jobs' extra copies in flight, at most {@code threads}; idle ones die
     * after a minute. The pool never queues (a job waits for its own copies, so a queue could only
     * add latency): when every thread is busy, the job's own thread makes the copy, so many jobs
     * at once overlap fewer copies each instead of starting a thread per copy.
     */
    static ThreadPoolExecutor copierPool(int threads) {
        return new ThreadPoolExecutor(
                0,
                threads,
                60,
                TimeUnit.SECONDS,
                new SynchronousQueue<>(),
                DaemonThreads.dataPath("stream-copy-"),
                new ThreadPoolExecutor.CallerRunsPolicy());
    }
}
