package dev.blockpull.job;

import java.time.Duration;

/**
 * The drain hook of one job, shaped like the callbacks of QEMU's job child
 * (child_job_drained_begin/poll/end). The graph floor sits below this one and cannot see it, so
 * whoever attaches a job to graph nodes (the stream floor) adapts the graph's drain callbacks to
 * these. Begin and end nest like QEMU's pause counter.
 */
public interface DrainableJob {

    /** Internal pause: pause counter +1, wakes a rate-limit sleep so the job reaches its pause point. */
    void drainedBegin();

    /** Pause counter −1; at zero (and no user pause) the job runs on. */
    void drainedEnd();

    /**
     * QEMU's drained_poll inverted: true when no job code is running, i.e. the job stands at a
     * pause point, sleeps, was never started, or its run has returned.
     */
    boolean isQuiescent();

    /** Waits until {@link #isQuiescent()}; false when the timeout passed first. */
    boolean awaitQuiescent(Duration timeout) throws InterruptedException;

    /**
     * Called each time the job becomes quiescent (parks, starts a rate-limit sleep, or its run
     * returns), on the job's thread and with none of the job's locks held, so the listener may
     * call back into {@link #isQuiescent()} (e.g. the graph's DrainCoordinator::wakeDrains).
     * Keep it short: the job waits for it.
     */
    void addQuiescenceListener(Runnable listener);
}
