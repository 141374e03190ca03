package dev.blockpull.job;

import dev.blockpull.io.Monitor;
import dev.blockpull.job.JobEvent.JobStatusChange;

/**
 * Where a scheduled job stands in its life: its status, whether it was started and whether its
 * run has returned, and the version (ETag) that every part of the job bumps. Holds the monitor
 * that guards this and every other part of the job ({@link PauseState}, {@link ProgressState},
 * {@link CompletionSequence}); all methods but {@link #status()} expect it held.
 */
final class JobState {

    final Monitor monitor = new Monitor();
    private final String id;
    private final JobEventBus events;
    private JobStatus status = JobStatus.UNDEFINED;
    private boolean started;
    /** run() has returned (QEMU's deferred_to_main_loop). */
    private boolean deferred;

    private long version;

    JobState(String id, JobEventBus events) {
        this.id = id;
        this.events = events;
    }

    String id() {
        return id;
    }

    /** The status, taking the monitor. */
    JobStatus status() {
        return monitor.get(() -> status);
    }

    JobStatus current() {
        return status;
    }

    /** The one transition function: table check, status, version, JOB_STATUS_CHANGE. */
    void transition(JobStatus to) {
        JobStatus from = status;
        StatusTransitions.check(from, to);
        status = to;
        version++;
        monitor.signalAll();
        if (from != to) {
            events.publish(new JobStatusChange(id, to));
        }
    }

    void publish(JobEvent event) {
        events.publish(event);
    }

    long version() {
        return version;
    }

    /** A stored field changed: the ETag moves. */
    void bump() {
        version++;
    }

    boolean started() {
        return started;
    }

    void markStarted() {
        started = true;
    }

    boolean runReturned() {
        return deferred;
    }

    void markRunReturned() {
        deferred = true;
    }
}
