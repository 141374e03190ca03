package dev.blockpull.graph;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A drained section that holds: no request is in flight on its nodes and none enters until it is
 * closed. Graph changes (filter insert/drop, backing change, reopen, close) happen inside one.
 */
public final class DrainedSection implements AutoCloseable {

    private final DrainCoordinator coordinator;
    private final DrainCoordinator.Section section;
    private final List<DrainParticipant> paused;
    private final AtomicBoolean open = new AtomicBoolean(true);

    DrainedSection(DrainCoordinator coordinator, DrainCoordinator.Section section, List<DrainParticipant> paused) {
        this.coordinator = coordinator;
        this.section = section;
        this.paused = paused;
    }

    /** The drained nodes. */
    public List<BlockNode> nodes() {
        return section.nodes();
    }

    /** Whether {@code node} is drained by this section. */
    public boolean covers(BlockNode node) {
        return open.get() && section.nodes.contains(node);
    }

    void join(BlockNode node) {
        coordinator.join(section, node);
    }

    /** Ends the section (once): queued requests go on, paused participants resume. */
    @Override
    public void close() {
        if (open.compareAndSet(true, false)) {
            coordinator.end(section, paused);
        }
    }
}
