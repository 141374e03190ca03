package dev.blockpull.job;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/**
 * No job has this id, live or in the history. The message is block-job-*'s
 * ("Block job 'J' not found", QMP class DeviceNotActive); {@link #genericMessage()} is job-*'s.
 */
public class JobNotFoundException extends BlockException {

    private final String jobId;

    public JobNotFoundException(String jobId) {
        super(BlockErrorKind.NOT_FOUND, "Block job '" + jobId + "' not found");
        this.jobId = jobId;
    }

    public String jobId() {
        return jobId;
    }

    /** The text QEMU's generic job-* commands use for the same failure. */
    public String genericMessage() {
        return "Job not found";
    }
}
