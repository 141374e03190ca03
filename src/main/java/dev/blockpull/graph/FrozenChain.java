package dev.blockpull.graph;

import java.util.List;

/** Links a holder froze with {@link NodeGraph#freezeChain}; {@link #release()} thaws them (once). */
public final class FrozenChain {

    private final NodeGraph graph;
    private final List<Link> links;
    private boolean released;

    FrozenChain(NodeGraph graph, List<Link> links) {
        this.graph = graph;
        this.links = List.copyOf(links);
    }

    public List<Link> links() {
        return links;
    }

    public void release() {
        graph.thaw(this);
    }

    /** Called under the graph lock. */
    boolean markReleased() {
        boolean was = released;
        released = true;
        return !was;
    }
}
