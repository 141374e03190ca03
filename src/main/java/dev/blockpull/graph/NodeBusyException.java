package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/** An operation is blocked on a node: QEMU's "Node 'N' is busy: REASON". */
public class NodeBusyException extends BlockException {

    public NodeBusyException(String message) {
        super(BlockErrorKind.CONFLICT, message);
    }
}
