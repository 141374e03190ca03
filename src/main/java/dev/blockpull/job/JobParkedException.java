package dev.blockpull.job;

/**
 * Thrown by {@link JobContext#pausePoint()} when the service parks the job for a restart: the
 * run loop unwinds with nothing in flight, and the scheduler releases the job's resources without
 * concluding it (no status change, no completion event), so the next start can resume it.
 */
public final class JobParkedException extends RuntimeException {

    public JobParkedException(String jobId) {
        super("Job '" + jobId + "' was parked for a restart", null, false, false);
    }
}
