package dev.blockpull.ops;

import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.DrainCoordinator;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.graph.NodeIoCounters;
import dev.blockpull.job.EventSubscriber;
import dev.blockpull.job.JobEvent;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.job.PublishedEvent;
import dev.blockpull.stream.CopyObserver;
import dev.blockpull.stream.StreamLauncher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * The Micrometer meters of jobs, nodes and drains (conventions §7; names pinned by the contract
 * as Prometheus shows them, e.g. {@code blockpull_job_progress_ratio}).
 * <p>
 * Tags stay bounded: {@code job_id} rows exist while the job is not dismissed (its status is not
 * {@code null}), {@code node} rows while the node is open. Both are {@link MultiGauge}s whose rows
 * are re-registered from the scheduler (on every job event, on the event bus's delivery thread,
 * never a job thread) and from the graph (polled once a second: nodes come and go without events),
 * so vanished rows disappear. Values are read at scrape time. {@code status} carries all 11 QEMU
 * statuses, zeros included, so no series flaps.
 * <p>
 * Operator meters beyond the contract: bytes copied per stream job (a row like the other per-job
 * gauges), each job's status (a row per status, 1 for the current one, as kube-state-metrics
 * shows pod phases), the latency of each copy request ({@link CopyObserver}), the duration of
 * each drained section ({@link dev.blockpull.graph.DrainListener}), and image I/O bytes and
 * errors per format node ({@link NodeIoCounters}, function counters registered and removed as
 * nodes come and go).
 */
@Component
class JobMetrics implements EventSubscriber, DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(JobMetrics.class);
    private static final long NODE_POLL_MILLIS = 1000;

    private final JobScheduler scheduler;
    private final NodeGraph graph;
    private final StreamLauncher launcher;
    private final MeterRegistry registry;
    private final MultiGauge progress;
    private final MultiGauge throughput;
    private final MultiGauge offset;
    private final MultiGauge length;
    private final MultiGauge status;
    private final MultiGauge nodeInflight;
    private final MultiGauge jobCopied;
    private final Timer chunkCopy;
    private final Timer drain;
    private final CopyObserver copyObserver;
    private final DrainCoordinator.Registration drainListener;
    /** I/O counters of the open format nodes, by node identity (a reused name is another node). Guarded by this. */
    private final Map<BlockNode, List<Meter>> nodeIo = new IdentityHashMap<>();

    private final AtomicLongArray jobsByStatus = new AtomicLongArray(JobStatus.values().length);
    private final ScheduledExecutorService nodePoller;
    private volatile boolean copiedBytesAvailable = true;

    JobMetrics(JobScheduler scheduler, NodeGraph graph, StreamLauncher launcher, MeterRegistry registry) {
        this.scheduler = scheduler;
        this.graph = graph;
        this.launcher = launcher;
        this.registry = registry;
        progress = MultiGauge.builder("blockpull.job.progress")
                .baseUnit("ratio")
                .description("Share of the job's work done, 0..1 (current / total progress)")
                .register(registry);
        throughput = MultiGauge.builder("blockpull.job.throughput.bytes.per.second")
                .description("Recent throughput of the job (sliding window), bytes per second")
                .register(registry);
        offset = MultiGauge.builder("blockpull.job.offset")
                .baseUnit("bytes")
                .description("Current progress of the job (QMP offset): bytes done, copied or skipped")
                .register(registry);
        length = MultiGauge.builder("blockpull.job.length")
                .baseUnit("bytes")
                .description("Total progress of the job (QMP len): bytes of the device")
                .register(registry);
        status = MultiGauge.builder("blockpull.job.status")
                .description("1 for the job's current status, 0 for the others (how long a job has run)")
                .register(registry);
        nodeInflight = MultiGauge.builder("blockpull.node.inflight.requests")
                .description("Requests in flight on the node")
                .register(registry);
        jobCopied = MultiGauge.builder("blockpull.stream.job.copied")
                .baseUnit("bytes")
                .description("Bytes copied by the stream job (copy-on-read into the top), per job")
                .register(registry);
        chunkCopy = Timer.builder("blockpull.stream.chunk.copy")
                .description("Latency of one copy request of a stream job (a merged run of 512 KiB chunks)")
                .serviceLevelObjectives(buckets(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000))
                .register(registry);
        drain = Timer.builder("blockpull.drain")
                .description("Duration of a drained section, from its begin (waiting included) to its end")
                .serviceLevelObjectives(buckets(1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 30000, 60000))
                .register(registry);
        for (JobStatus status : JobStatus.values()) {
            Gauge.builder("blockpull.jobs", jobsByStatus, counts -> counts.get(status.ordinal()))
                    .description("Jobs in each status; null = dismissed, still readable in the history")
                    .tag("status", status.qmpName())
                    .register(registry);
        }
        FunctionCounter.builder("blockpull.stream.copied", this, JobMetrics::copiedBytes)
                .baseUnit("bytes")
                .description("Bytes copied by every stream job since start-up")
                .register(registry);
        Gauge.builder("blockpull.drain.in.progress", graph, g -> g.drainStats().drainsInProgress())
                .description("Drained sections still waiting for requests or jobs")
                .register(registry);
        Gauge.builder("blockpull.drain.longest.wait", graph, g -> g.drainStats().longestDrainMillis() / 1000.0)
                .baseUnit("seconds")
                .description("How long the oldest waiting drain has waited")
                .register(registry);
        Gauge.builder("blockpull.inflight.oldest", graph, g -> g.drainStats().oldestInFlightMillis() / 1000.0)
                .baseUnit("seconds")
                .description("Upper bound of the age of the oldest in-flight request")
                .register(registry);
        for (String result : List.of("completed", "cancelled", "failed")) {
            finished("stream", result);
        }
        copyObserver = (bytes, nanos) -> chunkCopy.record(nanos, TimeUnit.NANOSECONDS);
        launcher.addCopyObserver(copyObserver);
        drainListener = graph.drains().addListener(nanos -> drain.record(nanos, TimeUnit.NANOSECONDS));
        refreshJobs();
        refreshNodes();
        scheduler.events().subscribe(this);
        nodePoller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "blockpull-metrics-nodes");
            t.setDaemon(true);
            return t;
        });
        nodePoller.scheduleWithFixedDelay(
                this::refreshNodesQuietly, NODE_POLL_MILLIS, NODE_POLL_MILLIS, TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- events (delivery thread)

    @Override
    public void onEvent(PublishedEvent published) {
        JobEvent event = published.event();
        if (event instanceof JobEvent.BlockJobCompleted c) {
            finished(c.type(), c.error() == null ? "completed" : "failed").increment();
        } else if (event instanceof JobEvent.BlockJobCancelled c) {
            finished(c.type(), "cancelled").increment();
        } else if (event instanceof JobEvent.BlockJobError e) {
            Counter.builder("blockpull.job.io.errors")
                    .description("I/O errors handled by a job's on-error policy")
                    .tags(
                            "operation",
                            e.operation().qmpName(),
                            "action",
                            e.action().qmpName())
                    .register(registry)
                    .increment();
        }
        if (event instanceof JobEvent.JobStatusChange) {
            refreshJobs();
            refreshNodesQuietly();
        }
    }

    /** Fell behind or failed: subscribe again and resynchronise from the scheduler. */
    @Override
    public void onDisconnect(DisconnectReason reason) {
        log.warn("Job metrics lost their event subscription ({}); subscribing again", reason);
        scheduler.events().subscribe(this);
        refreshJobs();
    }

    // ---------------------------------------------------------------- refresh

    private synchronized void refreshJobs() {
        long[] counts = new long[JobStatus.values().length];
        List<MultiGauge.Row<?>> progressRows = new ArrayList<>();
        List<MultiGauge.Row<?>> throughputRows = new ArrayList<>();
        List<MultiGauge.Row<?>> offsetRows = new ArrayList<>();
        List<MultiGauge.Row<?>> lengthRows = new ArrayList<>();
        List<MultiGauge.Row<?>> statusRows = new ArrayList<>();
        List<MultiGauge.Row<?>> copiedRows = new ArrayList<>();
        for (JobView job : scheduler.list()) {
            counts[job.status().ordinal()]++;
            if (job.status() == JobStatus.NULL) {
                continue;
            }
            Tags tags = Tags.of("job_id", job.id(), "type", job.type());
            String id = job.id();
            progressRows.add(row(tags, id, JobMetrics::ratio));
            throughputRows.add(row(tags, id, JobView::bytesPerSecond));
            offsetRows.add(row(tags, id, JobView::currentProgress));
            lengthRows.add(row(tags, id, JobView::totalProgress));
            // Every status a row, so that a job that paused for a while shows 0 for running then:
            // an alert can ask "running all of the last N minutes" with min_over_time.
            for (JobStatus s : JobStatus.values()) {
                if (s != JobStatus.NULL) {
                    statusRows.add(row(tags.and("status", s.qmpName()), id, j -> j.status() == s ? 1 : 0));
                }
            }
            if ("stream".equals(job.type())) {
                copiedRows.add(MultiGauge.Row.of(tags, launcher, l -> {
                    var copied = l.copiedBytes(id);
                    return copied.isPresent() ? copied.getAsLong() : Double.NaN;
                }));
            }
        }
        for (int i = 0; i < counts.length; i++) {
            jobsByStatus.set(i, counts[i]);
        }
        // overwrite=false: rows already there keep their gauge (values are looked up by id at
        // scrape time), rows of dismissed jobs are removed, new jobs get a row.
        progress.register(progressRows, false);
        throughput.register(throughputRows, false);
        offset.register(offsetRows, false);
        length.register(lengthRows, false);
        status.register(statusRows, false);
        jobCopied.register(copiedRows, false);
    }

    /** The value looks the job up at scrape time; the scheduler (a singleton) is the strong reference. */
    private MultiGauge.Row<JobScheduler> row(Tags tags, String id, ToDoubleFunction<JobView> value) {
        return MultiGauge.Row.of(tags, scheduler, s -> {
            Optional<JobView> view = s.find(id);
            return view.isPresent() && view.get().status() != JobStatus.NULL
                    ? value.applyAsDouble(view.get())
                    : Double.NaN;
        });
    }

    private static double ratio(JobView job) {
        if (job.totalProgress() <= 0) {
            return 0;
        }
        return Math.min(1.0, (double) job.currentProgress() / job.totalProgress());
    }

    private synchronized void refreshNodes() {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        for (BlockNode node : graph.nodes()) {
            rows.add(MultiGauge.Row.of(
                    Tags.of("node", node.name()), node, n -> n.requests().inFlight()));
        }
        nodeInflight.register(rows, false);
        refreshNodeIo();
    }

    /**
     * Image I/O counters of the open format nodes: removed first for nodes that closed (a node
     * opened again under the same name must not find the old node's meter), then added for new ones.
     */
    private void refreshNodeIo() {
        Set<BlockNode> open = Collections.newSetFromMap(new IdentityHashMap<>());
        for (BlockNode node : graph.nodes()) {
            if (node instanceof FormatNode && !node.isClosed()) {
                open.add(node);
            }
        }
        for (var it = nodeIo.entrySet().iterator(); it.hasNext(); ) {
            var entry = it.next();
            if (!open.contains(entry.getKey())) {
                entry.getValue().forEach(registry::remove);
                it.remove();
            }
        }
        for (BlockNode node : open) {
            if (!nodeIo.containsKey(node)) {
                NodeIoCounters io = ((FormatNode) node).io();
                String name = node.name();
                nodeIo.put(
                        node,
                        List.of(
                                ioBytes(io, name, "read", NodeIoCounters::readBytes),
                                ioBytes(io, name, "write", NodeIoCounters::writtenBytes),
                                ioErrors(io, name, "read", NodeIoCounters::readErrors),
                                ioErrors(io, name, "write", NodeIoCounters::writeErrors)));
            }
        }
    }

    private Meter ioBytes(NodeIoCounters io, String node, String operation, ToLongFunction<NodeIoCounters> f) {
        return FunctionCounter.builder("blockpull.node.io", io, c -> f.applyAsLong(c))
                .baseUnit("bytes")
                .description("Bytes the format node read from or wrote to its image")
                .tags("node", node, "operation", operation)
                .register(registry);
    }

    private Meter ioErrors(NodeIoCounters io, String node, String operation, ToLongFunction<NodeIoCounters> f) {
        return FunctionCounter.builder("blockpull.node.io.errors", io, c -> f.applyAsLong(c))
                .description("Image operations of the format node that failed")
                .tags("node", node, "operation", operation)
                .register(registry);
    }

    private static Duration[] buckets(long... millis) {
        Duration[] out = new Duration[millis.length];
        for (int i = 0; i < millis.length; i++) {
            out[i] = Duration.ofMillis(millis[i]);
        }
        return out;
    }

    private void refreshNodesQuietly() {
        try {
            refreshNodes();
        } catch (RuntimeException e) {
            log.debug("Refreshing node metrics failed", e);
        }
    }

    private Counter finished(String type, String result) {
        return Counter.builder("blockpull.jobs.finished")
                .description("Jobs that finished, by result (completed, cancelled, failed)")
                .tags("type", type, "result", result)
                .register(registry);
    }

    private double copiedBytes() {
        if (!copiedBytesAvailable) {
            return 0;
        }
        try {
            return launcher.copiedBytesTotal();
        } catch (UnsupportedOperationException notYet) {
            // The stream floor's counter is not there yet: report 0 rather than failing scrapes.
            copiedBytesAvailable = false;
            return 0;
        }
    }

    @Override
    public void destroy() {
        nodePoller.shutdownNow();
        launcher.removeCopyObserver(copyObserver);
        drainListener.close();
    }
}
