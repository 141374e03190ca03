package dev.blockpull.stream;

import dev.blockpull.format.BackingReference;
import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.job.JobScheduler;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * The dry run of a stream start. After the argument checks (§2.1 steps 1–9, the same
 * {@link StreamChecks} as a start) it runs the side-effect-free parts of steps 10–13 with the
 * start's errors: roles, a read-only storage that cannot be reopened read-write, the filter's
 * node name, the job id and speed. What only doing can tell (freezing links, permission claims)
 * is left out: nothing is reopened, inserted, frozen, claimed or created. The bytes to copy come
 * from the copy loop's own planner, so a job started right after copies exactly them.
 */
final class StreamDryRunner {

    private final NodeGraph graph;
    private final JobScheduler scheduler;
    private final StreamSettings settings;
    private final CopyMeters meters;

    StreamDryRunner(NodeGraph graph, JobScheduler scheduler, StreamSettings settings, CopyMeters meters) {
        this.graph = graph;
        this.scheduler = scheduler;
        this.settings = settings;
        this.meters = meters;
    }

    StreamDryRun answer(StreamPlan plan) {
        StreamRoles roles = StreamRoles.of(plan);
        if (roles.device().isReadOnly() && roles.top() instanceof FormatNode top) {
            top.checkCanBecomeWritable();
        }
        StreamRequest r = plan.request();
        if (r.filterNodeName() != null) {
            graph.checkNewNodeName(r.filterNodeName());
        }
        scheduler.checkCreatable(plan.jobId(), r.speed());

        long length = roles.device().length();
        ChunkPlanner.CopyTotals totals = roles.nothingToStream()
                ? ChunkPlanner.CopyTotals.NONE
                : ChunkPlanner.of(roles, length, settings.chunkSize()).totals();
        BlockNode base = roles.currentBase();
        List<String> removed = new ArrayList<>();
        for (BlockNode n = BackingChain.next(roles.top()); n != null && n != base; n = BackingChain.next(n)) {
            removed.add(n.name());
        }
        OptionalLong recent = meters.recentBytesPerSecond();
        StreamDryRun.EstimateBasis basis = r.speed() > 0
                ? StreamDryRun.EstimateBasis.SPEED
                : recent.isPresent() && recent.getAsLong() > 0
                        ? StreamDryRun.EstimateBasis.RECENT_JOBS
                        : StreamDryRun.EstimateBasis.NONE;
        Long seconds = switch (basis) {
            case SPEED -> secondsFor(totals.bytes(), r.speed());
            case RECENT_JOBS -> secondsFor(totals.bytes(), recent.getAsLong());
            case NONE -> null;
        };
        return new StreamDryRun(
                plan.jobId(),
                roles.device().name(),
                roles.top().name(),
                base == null ? null : base.name(),
                removed.isEmpty() ? null : roles.baseOverlay().name(),
                removed,
                backingFile(plan, roles.top(), base),
                totals.bytes(),
                totals.extents(),
                length,
                seconds,
                basis);
    }

    /** The string completion would write; the header keeps naming nothing when the top has no backing. */
    private static @Nullable String backingFile(StreamPlan plan, BlockNode top, @Nullable BlockNode base) {
        if (!(top instanceof FormatNode t) || BackingChain.cow(t) == null) {
            return null;
        }
        BackingReference reference = StreamCompletion.backingReference(plan, t, base);
        return reference == null ? null : reference.fileName();
    }

    /** Whole seconds, rounded up: a copy of one byte still takes a moment. */
    private static long secondsFor(long bytes, long bytesPerSecond) {
        return -Math.floorDiv(-bytes, bytesPerSecond);
    }
}
