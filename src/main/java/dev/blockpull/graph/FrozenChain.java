package dev.blockpull.graph;

import java.util.List;

/** Links a holder froze with {@link NodeGraph#freezeChain}; {@link #release()} thaws them (once). */
public final class FrozenChain {

    private final StructureChanges changes;
    private final List<Link> links;
    private boolean released;

    FrozenChain(StructureChanges changes, List<Link> links) {
        this.changes = changes;
        this.links = List.copyOf(links);
    }

    public List<Link> links() {
        return links;
    }

    public void release() {
        changes.thaw(this);
    }

    /** Called under the graph lock. */
    boolean markReleased() {
        boolean was = released;
        released = true;
        return !was;
    }
}
