package dev.blockpull.ops;

import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.job.JobEvent;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.job.EventSubscriber;
import dev.blockpull.job.PublishedEvent;
import dev.blockpull.stream.StreamLauncher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.ToDoubleFunction;

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
    private final MultiGauge nodeInflight;
    private final AtomicLongArray jobsByStatus = new AtomicLongArray(JobStatus.values().length);
    private final ScheduledExecutorService nodePoller;
    private volatile boolean copiedBytesAvailable = true;

    JobMetrics(JobScheduler scheduler, NodeGraph graph, StreamLauncher launcher, MeterRegistry registry) {
        this.scheduler = scheduler;
        this.graph = graph;
        this.launcher = launcher;
        this.registry = registry;
        progress = MultiGauge.builder("blockpull.job.progress").baseUnit("ratio")
                .description("Share of the job's work done, 0..1 (current / total progress)").register(registry);
        throughput = MultiGauge.builder("blockpull.job.throughput.bytes.per.second")
                .description("Recent throughput of the job (sliding window), bytes per second").register(registry);
        offset = MultiGauge.builder("blockpull.job.offset").baseUnit("bytes")
                .description("Current progress of the job (QMP offset): bytes done, copied or skipped")
                .register(registry);
        length = MultiGauge.builder("blockpull.job.length").baseUnit("bytes")
                .description("Total progress of the job (QMP len): bytes of the device").register(registry);
        nodeInflight = MultiGauge.builder("blockpull.node.inflight.requests")
                .description("Requests in flight on the node").register(registry);
        for (JobStatus status : JobStatus.values()) {
            Gauge.builder("blockpull.jobs", jobsByStatus, counts -> counts.get(status.ordinal()))
                    .description("Jobs in each status; null = dismissed, still readable in the history")
                    .tag("status", status.qmpName()).register(registry);
        }
        FunctionCounter.builder("blockpull.stream.copied", this, JobMetrics::copiedBytes).baseUnit("bytes")
                .description("Bytes copied by every stream job since start-up").register(registry);
        Gauge.builder("blockpull.drain.in.progress", graph, g -> g.drainStats().drainsInProgress())
                .description("Drained sections still waiting for requests or jobs").register(registry);
        Gauge.builder("blockpull.drain.longest.wait", graph, g -> g.drainStats().longestDrainMillis() / 1000.0)
                .baseUnit("seconds").description("How long the oldest waiting drain has waited").register(registry);
        Gauge.builder("blockpull.inflight.oldest", graph, g -> g.drainStats().oldestInFlightMillis() / 1000.0)
                .baseUnit("seconds").description("Upper bound of the age of the oldest in-flight request")
                .register(registry);
        for (String result : List.of("completed", "cancelled", "failed")) {
            finished("stream", result);
        }
        refreshJobs();
        refreshNodes();
        scheduler.events().subscribe(this);
        nodePoller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "blockpull-metrics-nodes");
            t.setDaemon(true);
            return t;
        });
        nodePoller.scheduleWithFixedDelay(this::refreshNodesQuietly, NODE_POLL_MILLIS, NODE_POLL_MILLIS,
                TimeUnit.MILLISECONDS);
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
                    .tags("operation", e.operation().qmpName(), "action", e.action().qmpName())
                    .register(registry).increment();
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
    }

    /** The value looks the job up at scrape time; the scheduler (a singleton) is the strong reference. */
    private MultiGauge.Row<JobScheduler> row(Tags tags, String id, ToDoubleFunction<JobView> value) {
        return MultiGauge.Row.of(tags, scheduler, s -> {
            Optional<JobView> view = s.find(id);
            return view.isPresent() && view.get().status() != JobStatus.NULL ? value.applyAsDouble(view.get())
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
            rows.add(MultiGauge.Row.of(Tags.of("node", node.name()), node, n -> n.requests().inFlight()));
        }
        nodeInflight.register(rows, false);
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
                .tags("type", type, "result", result).register(registry);
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
    }
}
