package dev.blockpull.graph;

import org.jspecify.annotations.Nullable;

/**
 * The moves of links and attachments that structure changes are made of. Callers hold the graph
 * lock and a drained section over the nodes involved.
 */
final class Relink {

    private Relink() {}

    /** @throws FrozenLinkException "Cannot change 'backing' link from 'A' to 'B'" */
    static void checkNotFrozen(Link l) {
        if (l.isFrozen()) {
            BlockNode c = l.child();
            throw new FrozenLinkException("Cannot change '" + l.role().linkName() + "' link from '"
                    + l.parent().name() + "' to '" + (c == null ? "" : c.name()) + "'");
        }
    }

    static void checkParentsNotFrozen(BlockNode node) {
        node.parentLinks().forEach(Relink::checkNotFrozen);
    }

    /**
     * Puts {@code to} in the place of {@code from}: every parent link and every attachment of
     * {@code from} now points to {@code to} (QEMU's bdrv_replace_node). Nothing moves if a parent
     * link is frozen.
     */
    static void replace(BlockNode from, BlockNode to) {
        checkParentsNotFrozen(from);
        for (Link l : from.parentLinks()) {
            point(l, to);
        }
        for (Attachment a : from.attachments()) {
            from.removeAttachment(a);
            to.addAttachment(a);
            a.setRoot(to);
        }
    }

    /** Points {@code l} at {@code to} (null: at nothing), keeping both children's parent lists true. */
    static void point(Link l, @Nullable BlockNode to) {
        BlockNode from = l.child();
        if (from != null) {
            from.removeParent(l);
        }
        l.setChild(to);
        if (to != null) {
            to.addParent(l);
        }
    }
}
