package dev.blockpull.stream;

import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.CopyOnReadFilter;
import dev.blockpull.graph.DrainedSection;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.graph.FrozenChain;
import dev.blockpull.graph.Holder;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.graph.OpBlocker;
import dev.blockpull.graph.Permission;
import dev.blockpull.job.JobHandle;
import dev.blockpull.job.JobOptions;
import dev.blockpull.job.JobResumption;
import dev.blockpull.job.JobScheduler;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import org.jspecify.annotations.Nullable;

/**
 * Steps 10–14 of stream-semantics §2.1 with the effects of §2.2 (QEMU's stream_start): roles,
 * read-write reopen under a temporary freeze, the copy-on-read filter and its frozen links, the
 * job, its attachment, permissions and op blockers. Any failure undoes what was done, in
 * reverse: job gone, filter dropped, top read-only again.
 */
final class StreamSetup {

    private static final Set<Permission> ACTIVE_SHARES =
            EnumSet.of(Permission.CONSISTENT_READ, Permission.WRITE, Permission.WRITE_UNCHANGED);
    private static final Set<Permission> INTERMEDIATE_SHARES =
            EnumSet.of(Permission.CONSISTENT_READ, Permission.WRITE_UNCHANGED);

    private final NodeGraph graph;
    private final JobScheduler scheduler;
    private final StreamSettings settings;
    private final ExecutorService copiers;
    private final CopyMeters meters;

    StreamSetup(
            NodeGraph graph,
            JobScheduler scheduler,
            StreamSettings settings,
            ExecutorService copiers,
            CopyMeters meters) {
        this.graph = graph;
        this.scheduler = scheduler;
        this.settings = settings;
        this.copiers = copiers;
        this.meters = meters;
    }

    /** Sets everything up and starts the job; on failure nothing is left behind. */
    JobHandle start(StreamPlan plan, @Nullable JobResumption resumption) {
        StreamRoles roles = StreamRoles.of(plan);
        StreamResources res = new StreamResources(graph);
        JobHandle handle = null;
        boolean started = false;
        try {
            reopenReadWrite(roles, res);
            CopyOnReadFilter filter = insertFilter(plan, roles, res);

            StreamJob job = new StreamJob(graph, plan, roles, res, settings, copiers, meters.startJob(plan.jobId()));
            StreamRequest r = plan.request();
            handle = scheduler.create(
                    job,
                    new JobOptions(plan.jobId(), r.device(), r.speed(), r.onError(), r.autoFinalize(), r.autoDismiss()),
                    resumption);
            JobDrainAdapter adapter = new JobDrainAdapter(handle, () -> entryOf(res, roles));
            job.bind(adapter);

            Holder holder = Holder.job(StreamJob.TYPE, plan.jobId());
            // The job's own requests must not queue behind a drain that waits for the job (§8).
            res.attachment = graph.attach(holder, filter, false, EnumSet.of(Permission.CONSISTENT_READ), ACTIVE_SHARES);
            hold(res, holder, filter, "main node", EnumSet.allOf(Permission.class));
            hold(res, holder, roles.device(), "active node", ACTIVE_SHARES);
            BlockNode base = roles.currentBase();
            for (BlockNode n = BackingChain.next(roles.device()); n != null && n != base; n = BackingChain.next(n)) {
                hold(res, holder, n, "intermediate node", INTERMEDIATE_SHARES);
            }
            res.drainRegistration = graph.drains().register(adapter);
            handle.addQuiescenceListener(graph.drains()::wakeDrains);
            handle.start();
            started = true;
            return handle;
        } finally {
            if (!started) {
                if (handle != null) {
                    handle.earlyFail();
                }
                res.release(null);
            }
        }
    }

    /** Step 11: a read-only device is reopened read-write while its chain is held frozen. */
    private void reopenReadWrite(StreamRoles roles, StreamResources res) {
        if (!roles.device().isReadOnly() || !(roles.top() instanceof FormatNode top)) {
            return;
        }
        FrozenChain hold = graph.freezeChain(roles.device(), roles.aboveBase());
        try (DrainedSection section = graph.drain(top)) {
            graph.reopen(section, top, false);
            res.reopenedTop = top;
        } finally {
            hold.release();
        }
    }

    /** Step 12: the filter above the device, freezing every link from it down to the base overlay. */
    private CopyOnReadFilter insertFilter(StreamPlan plan, StreamRoles roles, StreamResources res) {
        CopyOnReadFilter filter;
        try (DrainedSection section = graph.drain(roles.device())) {
            filter = graph.insertCopyOnReadFilter(
                    section, roles.device(), plan.request().filterNodeName(), roles.baseOverlay());
            res.filter = filter;
        }
        res.filterFreeze = graph.freezeChain(filter, roles.baseOverlay());
        return filter;
    }

    /** QEMU's block_job_add_bdrv: a permission claim taking nothing, then every operation blocked. */
    private static void hold(StreamResources res, Holder holder, BlockNode node, String role, Set<Permission> shares) {
        res.claims.add(node.permissions().claim(holder, role, Set.of(), shares));
        res.blockers.add(node.block(holder, OpBlocker.all(), OpBlocker.jobReason(StreamJob.TYPE)));
    }

    /** Where the job's requests enter: its filter while there, then the device node. */
    private static BlockNode entryOf(StreamResources res, StreamRoles roles) {
        @Nullable CopyOnReadFilter f = res.filter();
        return f != null ? f : roles.device();
    }
}
