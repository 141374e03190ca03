package dev.blockpull.job;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/** The id is not well formed (QEMU's id_wellformed): "Invalid job ID 'J'". */
public class InvalidJobIdException extends BlockException {

    public InvalidJobIdException(String jobId) {
        super(BlockErrorKind.INVALID_ARGUMENT, "Invalid job ID '" + jobId + "'");
    }
}
