package dev.blockpull.job;

/** What a job's {@link Job#run} may call; handed to it by the scheduler, used on the job thread. */
public interface JobContext {

    String jobId();

    /**
     * The per-iteration yield of a run loop (QEMU's block_job_ratelimit_sleep): sleeps as long
     * as the rate limit asks, recomputing the delay after every early wake-up (set-speed, pause,
     * resume, drain), parks while a user, error-stop or drain pause is requested (status
     * {@code paused}, {@code busy=false}), and throws {@link JobCancelledException} once the job
     * is cancelled. Call it with no I/O in flight: drains wait for exactly this point.
     */
    void pausePoint();

    /** Whether the job has been (force-)cancelled; {@link #pausePoint()} also throws then. */
    boolean isCancelled();

    /**
     * Whether the next {@link #pausePoint()} would park or throw: a pause (user, error-stop or
     * drain) or a cancel is pending. A loop that keeps I/O in flight between pause points asks
     * this after each request and, when true, lets its I/O finish and goes to the pause point.
     */
    boolean pauseRequested();

    /** The job's speed limit in bytes per second, 0 for none (set at creation or by set-speed). */
    long speed();

    /** QEMU's job_progress_set_remaining: total = current + remaining. */
    void setProgressRemaining(long remaining);

    /** QEMU's job_progress_update: {@code bytes} more are done (skipped, copied or ignored). */
    void addProgress(long bytes);

    /** After a request that the rate limit pays for (stream: copied chunks only). */
    void rateLimitAccount(long bytes);

    /**
     * Nanoseconds the rate limit asks to wait before the next request, 0 when the job is behind
     * its speed (or has none). A loop with several requests in flight asks this to know when to
     * let them finish and sleep at {@link #pausePoint()}.
     */
    long rateLimitDelay();

    /**
     * QEMU's block_job_error_action: decides by the job's on-error policy, emits BLOCK_JOB_ERROR
     * (unless cancelled), and for {@link ErrorAction#STOP} makes the job user-paused with
     * ioStatus {@code failed}/{@code nospace} so that the next {@link #pausePoint()} parks it
     * and a resume (which resets ioStatus) lets the loop retry. The loop acts on the answer:
     * STOP → retry the same chunk, REPORT → fail now, IGNORE → count the chunk, fail at the end.
     */
    ErrorAction handleError(Throwable error, IoOperation operation);

    /** QEMU's job_transition_to_ready, for jobs waiting for {@code complete} (never stream). */
    void transitionToReady();
}
