package dev.blockpull.job;

/** A job the scheduler has created: what its creator (the stream floor) holds on to. */
public interface JobHandle extends DrainableJob {

    String id();

    /**
     * QEMU's job_start: {@code created → running} and the job's thread starts. Refused with
     * {@link JobStateConflictException} if the job is no longer {@code created} (cancelled meanwhile).
     */
    void start();

    /**
     * QEMU's job_early_fail: a created job whose set-up failed after creation disappears
     * ({@code created → null}) without running any hook and without entering the history.
     */
    void earlyFail();

    /** The job as it is now (or its final record once dismissed). */
    JobView view();
}
