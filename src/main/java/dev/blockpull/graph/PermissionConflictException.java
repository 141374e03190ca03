package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/** A permission claim clashes with one already held on the node. */
public class PermissionConflictException extends BlockException {

    public PermissionConflictException(String message) {
        super(BlockErrorKind.CONFLICT, message);
    }
}
