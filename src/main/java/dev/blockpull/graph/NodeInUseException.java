package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/** A node cannot be closed because a parent node, an attachment or a claim still uses it. */
public class NodeInUseException extends BlockException {

    public NodeInUseException(String message) {
        super(BlockErrorKind.CONFLICT, message);
    }
}
