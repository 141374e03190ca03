package dev.blockpull.job;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/** A live job already has this id: QEMU's "Job ID 'J' already in use". */
public class JobIdInUseException extends BlockException {

    public JobIdInUseException(String jobId) {
        super(BlockErrorKind.CONFLICT, "Job ID '" + jobId + "' already in use");
    }
}
