package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The changes of the graph's structure: attachments, filter insertion and removal, backing links,
 * reopen, frozen links, and unlinking closed nodes. Each runs under the graph lock; those that
 * re-point links of live nodes also need a {@link DrainedSection} that covers the nodes, so that
 * no request is in flight while a link moves.
 */
final class StructureChanges {

    private static final Logger log = LoggerFactory.getLogger(StructureChanges.class);

    private final NodeGraph graph;
    private final GraphLock lock;
    private final NodeRegistry registry;

    StructureChanges(NodeGraph graph) {
        this.graph = graph;
        this.lock = graph.lock();
        this.registry = graph.registry();
    }

    // ------------------------------------------------------------------ attachments

    Attachment attach(
            Holder holder, BlockNode root, boolean queueWhileDrained, Set<Permission> takes, Set<Permission> shares) {
        return lock.call(() -> {
            root.checkOpen();
            PermissionClaim claim = takes.isEmpty() && shares.containsAll(Set.of(Permission.values()))
                    ? null
                    : root.permissions().claim(holder, "root", takes, shares);
            Attachment a = new Attachment(this, holder, root, queueWhileDrained, claim);
            root.addAttachment(a);
            return a;
        });
    }

    void detach(Attachment a) {
        lock.run(() -> a.root().removeAttachment(a));
    }

    // ------------------------------------------------------------------ filters

    CopyOnReadFilter insertCopyOnReadFilter(
            DrainedSection section, BlockNode above, @Nullable String name, @Nullable BlockNode bottom) {
        return lock.call(() -> {
            requireDrained(section, above);
            if (name != null) {
                registry.checkNewName(name);
            }
            Relink.checkParentsNotFrozen(above);
            CopyOnReadFilter filter = new CopyOnReadFilter(
                    name != null ? name : registry.generateName(), above, bottom, name == null, graph.drains());
            section.join(filter);
            Relink.replace(above, filter);
            above.addParent(filter.filteredLink());
            if (BackingChain.skipFilters(above) instanceof FormatNode t) {
                t.addCopyOnReadUser(1);
            }
            registry.add(filter);
            log.debug("Inserted {} above {}", filter.name(), above.name());
            return filter;
        });
    }

    void dropFilter(DrainedSection section, FilterNode filter) {
        lock.run(() -> {
            requireDrained(section, filter);
            Link own = filter.filteredLink();
            Relink.checkNotFrozen(own);
            BlockNode child = filter.child();
            Relink.replace(filter, child);
            Relink.point(own, null);
            if (filter instanceof CopyOnReadFilter && BackingChain.skipFilters(child) instanceof FormatNode t) {
                t.addCopyOnReadUser(-1);
            }
            registry.remove(filter);
            filter.closeResources();
            log.debug("Dropped {} above {}", filter.name(), child.name());
        });
    }

    // ------------------------------------------------------------------ backing links and reopen

    @Nullable
    BlockNode setBackingToNextOf(DrainedSection section, FormatNode node, BlockNode above) {
        return lock.call(() -> {
            BlockNode backing = BackingChain.next(above);
            setBacking(section, node, backing);
            return backing;
        });
    }

    void setBacking(DrainedSection section, FormatNode node, @Nullable BlockNode backing) {
        lock.run(() -> {
            requireDrained(section, node);
            Link link = node.backingLink();
            if (link == null) {
                throw new BlockException(
                        BlockErrorKind.INVALID_ARGUMENT,
                        "Driver '" + node.driver().id() + "' of node '" + node.name()
                                + "' does not support backing files");
            }
            BlockNode old = link.child();
            if (old == backing) {
                return;
            }
            Relink.checkNotFrozen(link);
            if (backing != null && BackingChain.contains(backing, node)) {
                throw new BlockException(
                        BlockErrorKind.INVALID_ARGUMENT,
                        "Making '" + backing.name() + "' a backing child of '" + node.name()
                                + "' would create a cycle");
            }
            if (backing != null) {
                backing.checkOpen();
            }
            Relink.point(link, backing);
            if (old != null) {
                closeIfUnusedImplicit(old);
            }
        });
    }

    void reopen(DrainedSection section, FormatNode node, boolean readOnly) {
        lock.run(() -> {
            requireDrained(section, node);
            node.reopen(readOnly);
            graph.openFiles().update(node);
        });
    }

    // ------------------------------------------------------------------ frozen links

    FrozenChain freezeChain(BlockNode top, @Nullable BlockNode until) {
        return lock.call(() -> {
            List<Link> links = new ArrayList<>();
            for (BlockNode p = top; p != null && p != until; p = BackingChain.next(p)) {
                Link l = p.isFilter() ? p.filteredLink() : p.backingLink();
                if (l == null || l.child() == null) {
                    break;
                }
                links.add(l);
            }
            if (until != null && !BackingChain.contains(top, until)) {
                throw new BlockException(
                        BlockErrorKind.INVALID_ARGUMENT,
                        "'" + until.name() + "' is not in the backing chain of '" + top.name() + "'");
            }
            links.forEach(Relink::checkNotFrozen);
            links.forEach(l -> l.setFrozen(true));
            return new FrozenChain(this, links);
        });
    }

    void thaw(FrozenChain chain) {
        lock.run(() -> {
            if (chain.markReleased()) {
                chain.links().forEach(l -> l.setFrozen(false));
            }
        });
    }

    // ------------------------------------------------------------------ unlinking

    /** Unlinks a node nobody uses, closes it, and then its children that became unused and are implicit. */
    void unregisterAndClose(BlockNode node) {
        registry.remove(node);
        graph.openFiles().remove(node);
        List<BlockNode> children = new ArrayList<>();
        for (Link l : node.children()) {
            BlockNode c = l.child();
            if (c != null) {
                Relink.point(l, null);
                children.add(c);
            }
        }
        closeQuietly(node);
        children.forEach(this::closeIfUnusedImplicit);
    }

    private void closeIfUnusedImplicit(BlockNode node) {
        if (!node.isUserOwned() && node.isUnused()) {
            unregisterAndClose(node);
        }
    }

    static void closeQuietly(BlockNode n) {
        try {
            n.closeResources();
        } catch (RuntimeException e) {
            log.warn("Closing node {} failed: {}", n.name(), e.toString());
        }
    }

    private static void requireDrained(DrainedSection section, BlockNode node) {
        if (!section.covers(node)) {
            throw new IllegalStateException(
                    "Graph change on '" + node.name() + "' outside a drained section covering it");
        }
    }
}
