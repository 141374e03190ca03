package dev.blockpull.graph;

import java.util.Set;

/**
 * Operations blocked on a node by a holder, with the reason QEMU prints, e.g. {@code block device
 * is in use by block job: stream}. Remove it when done; removing twice is harmless.
 */
public record OpBlocker(BlockNode node, Holder holder, Set<BlockOp> ops, String reason) {

    /** Every operation, as a block job blocks the nodes it registered (stream-semantics §5.4). */
    public static Set<BlockOp> all() {
        return Set.of(BlockOp.values());
    }

    /** QEMU's reason text for a block job of {@code type}. */
    public static String jobReason(String type) {
        return "block device is in use by block job: " + type;
    }

    public void remove() {
        node.removeBlocker(this);
    }
}
