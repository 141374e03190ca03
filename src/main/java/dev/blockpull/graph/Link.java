package dev.blockpull.graph;

import org.jspecify.annotations.Nullable;

/**
 * A parent's link to a child in one role. The child may change (a backing link re-pointed, a
 * filter inserted below the parent) only under the graph lock and a drain; I/O reads it without
 * locking. A frozen link cannot change at all.
 */
public final class Link {

    private final BlockNode parent;
    private final ChildRole role;
    private volatile @Nullable BlockNode child;
    /** Guarded by the graph lock. */
    private boolean frozen;

    Link(BlockNode parent, ChildRole role, @Nullable BlockNode child) {
        this.parent = parent;
        this.role = role;
        this.child = child;
    }

    public BlockNode parent() {
        return parent;
    }

    public ChildRole role() {
        return role;
    }

    public @Nullable BlockNode child() {
        return child;
    }

    public boolean isFrozen() {
        return frozen;
    }

    void setChild(@Nullable BlockNode newChild) {
        this.child = newChild;
    }

    void setFrozen(boolean frozen) {
        this.frozen = frozen;
    }

    @Override
    public String toString() {
        BlockNode c = child;
        return parent.name() + " -" + role.linkName() + "-> " + (c == null ? "none" : c.name());
    }
}
