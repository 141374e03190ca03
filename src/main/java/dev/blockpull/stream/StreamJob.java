package dev.blockpull.stream;

import dev.blockpull.graph.Attachment;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.io.BufferPool;
import dev.blockpull.job.ErrorTexts;
import dev.blockpull.job.Job;
import dev.blockpull.job.JobContext;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The stream job as the job floor runs it: {@link #run} is the copy loop (§3), {@link #prepare}
 * the completion (§4.1), {@link #clean} the release of everything the set-up took (§4.2). The
 * abort path needs nothing of its own: the chain was never changed, and clean drops the filter
 * and restores read-only.
 */
final class StreamJob implements Job {

    static final String TYPE = "stream";
    private static final Logger log = LoggerFactory.getLogger(StreamJob.class);

    private final NodeGraph graph;
    private final StreamPlan plan;
    private final StreamRoles roles;
    private final StreamResources resources;
    private final StreamSettings settings;
    private final ExecutorService copiers;
    private final CopyMeters.Job meters;
    private volatile @Nullable JobDrainAdapter drainAdapter;

    StreamJob(
            NodeGraph graph,
            StreamPlan plan,
            StreamRoles roles,
            StreamResources resources,
            StreamSettings settings,
            ExecutorService copiers,
            CopyMeters.Job meters) {
        this.graph = graph;
        this.plan = plan;
        this.roles = roles;
        this.resources = resources;
        this.settings = settings;
        this.copiers = copiers;
        this.meters = meters;
    }

    /** After the scheduler created the job: the drain adapter made from its handle. */
    void bind(JobDrainAdapter adapter) {
        this.drainAdapter = adapter;
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** Block-layer messages name files by absolute path; the job's error is shown to API users. */
    @Override
    public String errorText(Throwable failure) {
        return graph.dataRoot().hidePaths(ErrorTexts.of(failure));
    }

    @Override
    public void run(JobContext context) {
        MDC.put("node", roles.top().name());
        try {
            if (roles.nothingToStream()) {
                log.debug("Nothing to stream into {}", roles.top().name());
                return;
            }
            Attachment attachment = Objects.requireNonNull(resources.attachment, "attachment");
            long length = roles.device().length();
            ChunkPlanner planner = ChunkPlanner.of(roles, length, settings.chunkSize());
            long started = System.nanoTime();
            new CopyLoop(attachment, planner, length, settings, copiers, BufferPool.shared(), meters).run(context);
            meters.completed(System.nanoTime() - started, context.speed() > 0);
        } finally {
            MDC.remove("node");
        }
    }

    @Override
    public void prepare() {
        withMdc(() -> new StreamCompletion(graph, plan, roles, resources).prepare(drainAdapter));
    }

    @Override
    public void clean() {
        withMdc(() -> resources.release(drainAdapter));
    }

    /** Completion hooks may run on a caller's thread (finalize, cancel in pending): log with the job's MDC. */
    private void withMdc(Runnable action) {
        JobLogContext.of(plan.jobId(), roles.top().name()).run(action);
    }
}
