package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/** A link is frozen by a job, or may never be frozen: QEMU's "Cannot change/freeze ... link" errors. */
public class FrozenLinkException extends BlockException {

    public FrozenLinkException(String message) {
        super(BlockErrorKind.CONFLICT, message);
    }
}
