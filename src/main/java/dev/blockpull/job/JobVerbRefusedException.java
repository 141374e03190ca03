package dev.blockpull.job;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/** The verb table refuses the verb in the job's status (QEMU's job_apply_verb). */
public class JobVerbRefusedException extends BlockException {

    private final String jobId;
    private final JobStatus status;
    private final JobVerb verb;

    public JobVerbRefusedException(String jobId, JobStatus status, JobVerb verb) {
        super(
                BlockErrorKind.CONFLICT,
                "Job '" + jobId + "' in state '" + status + "' cannot accept command verb '" + verb + "'");
        this.jobId = jobId;
        this.status = status;
        this.verb = verb;
    }

    public String jobId() {
        return jobId;
    }

    public JobStatus status() {
        return status;
    }

    public JobVerb verb() {
        return verb;
    }
}
