package dev.blockpull.stream;

import dev.blockpull.graph.Attachment;
import dev.blockpull.graph.CopyOnReadFilter;
import dev.blockpull.graph.DrainCoordinator;
import dev.blockpull.graph.DrainParticipant;
import dev.blockpull.graph.DrainedSection;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.graph.FrozenChain;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.graph.OpBlocker;
import dev.blockpull.graph.PermissionClaim;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one stream job holds in the graph: the filter and its frozen links, the private
 * attachment, permission claims, op blockers, the drain registration, and whether the top was
 * reopened read-write. Filled in by {@link StreamSetup}; released in reverse by
 * {@link #release} (QEMU's stream_clean plus block_job_free), after a failed set-up as well as
 * after every outcome of the job. Releasing twice is harmless.
 */
final class StreamResources {

    private static final Logger log = LoggerFactory.getLogger(StreamResources.class);

    private final NodeGraph graph;

    @Nullable
    FormatNode reopenedTop;
    /** Volatile: the drain adapter reads it from other threads without the lock. */
    volatile @Nullable CopyOnReadFilter filter;

    @Nullable
    FrozenChain filterFreeze;

    @Nullable
    Attachment attachment;

    final List<PermissionClaim> claims = new ArrayList<>();
    final List<OpBlocker> blockers = new ArrayList<>();
    DrainCoordinator.@Nullable Registration drainRegistration;

    StreamResources(NodeGraph graph) {
        this.graph = graph;
    }

    @Nullable
    CopyOnReadFilter filter() {
        return filter;
    }

    /**
     * Drops the copy-on-read filter, if still there: its frozen links first, then the filter,
     * inside a drained section over it.
     */
    synchronized void dropFilter(@Nullable DrainParticipant self) {
        CopyOnReadFilter f = filter;
        if (f == null) {
            return;
        }
        try (DrainedSection section = graph.drain(f, self, null)) {
            if (filterFreeze != null) {
                filterFreeze.release();
                filterFreeze = null;
            }
            graph.dropFilter(section, f);
            filter = null;
        }
    }

    /** Everything, in the reverse order of set-up; each step runs even if an earlier one fails. */
    synchronized void release(@Nullable DrainParticipant self) {
        quietly("drop the filter", () -> dropFilter(self));
        quietly("close the attachment", () -> {
            if (attachment != null) {
                attachment.close();
                attachment = null;
            }
        });
        quietly("release permissions", () -> {
            claims.forEach(PermissionClaim::release);
            claims.clear();
        });
        quietly("remove op blockers", () -> {
            blockers.forEach(OpBlocker::remove);
            blockers.clear();
        });
        quietly("reopen the top read-only", () -> {
            FormatNode t = reopenedTop;
            if (t != null) {
                try (DrainedSection section = graph.drain(t, self, null)) {
                    graph.reopen(section, t, true);
                }
                reopenedTop = null;
            }
        });
        quietly("leave the drain coordinator", () -> {
            if (drainRegistration != null) {
                drainRegistration.close();
                drainRegistration = null;
            }
        });
    }

    private static void quietly(String what, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            // clean-up must go on (QEMU's clean returns void); the node stays usable as it is
            log.warn("Stream clean-up could not {}: {}", what, e.toString());
        }
    }
}
