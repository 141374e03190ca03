package dev.blockpull.job;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/**
 * A verb the table allows but the job's pause or cancel state does not, with QEMU's texts:
 * "Job is already paused", "Can't resume a job that was not paused", "The block job for
 * device 'J' is currently paused", "The active block job 'J' cannot be completed".
 */
public class JobStateConflictException extends BlockException {

    public JobStateConflictException(String message) {
        super(BlockErrorKind.CONFLICT, message);
    }
}
