package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/**
 * A request through an attachment that was closed: its export or job is gone. A conflict, not an
 * I/O error (the NBD layer answers ESHUTDOWN).
 */
public class AttachmentClosedException extends BlockException {

    public AttachmentClosedException(String message) {
        super(BlockErrorKind.CONFLICT, message);
    }
}
