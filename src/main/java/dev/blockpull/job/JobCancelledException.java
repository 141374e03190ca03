package dev.blockpull.job;

/**
 * Thrown by {@link JobContext#pausePoint()} once the job is cancelled, so a run loop unwinds with
 * nothing in flight. Control flow, not an error: the scheduler catches it and concludes the job as
 * cancelled ("Operation canceled"). It never leaves the job floor, so it is not a BlockException.
 */
public class JobCancelledException extends RuntimeException {

    public JobCancelledException(String jobId) {
        super("Job '" + jobId + "' was cancelled", null, false, false);
    }
}
