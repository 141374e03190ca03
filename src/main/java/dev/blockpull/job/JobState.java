package dev.blockpull.job;

import dev.blockpull.io.Monitor;
import dev.blockpull.job.JobEvent.JobStatusChange;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Where a scheduled job stands in its life: its status, whether it was started and whether its
 * run has returned, and the version (ETag) that every part of the job bumps. Holds the monitor
 * that guards this and every other part of the job ({@link PauseState}, {@link ProgressState},
 * {@link CompletionSequence}); all methods but {@link #status()} and {@link #publishedView()}
 * expect it held.
 * <p>
 * Whenever the monitor is let go after a change that a view shows, the job's view is published:
 * a reader that finds the monitor held answers that one instead of waiting for the holder, which
 * is a data-path thread at low priority that a busy machine may keep off the CPU for many
 * milliseconds. Unless the holder has published an event since: whoever saw that event must see
 * the hold's changes too, so then the reader waits for the hold to end, as it always did.
 */
final class JobState {

    final Monitor monitor = new Monitor(this::publishViewIfChanged);
    private final String id;
    private final JobEventBus events;
    private JobStatus status = JobStatus.UNDEFINED;
    private boolean started;
    /** run() has returned (QEMU's deferred_to_main_loop). */
    private boolean deferred;

    private long version;

    private @Nullable Supplier<JobView> views;
    /** A field that views show changed since the last view was published. */
    private boolean viewChanged;

    private volatile @Nullable JobView published;
    /** An event went out in the current hold, after the view was published: that view may predate its cause. */
    private volatile boolean eventSincePublished;

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
        bump();
        monitor.signalAll();
        if (from != to) {
            publish(new JobStatusChange(id, to));
        }
    }

    void publish(JobEvent event) {
        eventSincePublished = true;
        events.publish(event);
    }

    long version() {
        return version;
    }

    /** A stored field changed: the ETag moves. */
    void bump() {
        version++;
        viewChanged = true;
    }

    /** A field that views show but that has no version of its own (busy, the initial speed) changed. */
    void viewChanged() {
        viewChanged = true;
    }

    /** Where the views to publish come from; set once, before the monitor is first let go after a change. */
    void publishViewsOf(Supplier<JobView> viewUnderMonitor) {
        this.views = viewUnderMonitor;
    }

    /**
     * The view published last: every change whose hold has been released is in it, and its
     * throughput is as of when it was made. Needs no monitor; null before the first change, and
     * while the holder has published an event since (the reader must wait for the monitor then).
     */
    @Nullable
    JobView publishedView() {
        return eventSincePublished ? null : published;
    }

    /** A view made under the monitor is as new as any: publish it, so readers that find the monitor held get it. */
    void published(JobView fresh) {
        published = fresh;
        viewChanged = false;
        eventSincePublished = false; // after the view: a reader that sees false gets the view with the events' causes
    }

    private void publishViewIfChanged() {
        Supplier<JobView> source = views;
        if ((viewChanged || eventSincePublished) && source != null) {
            published(source.get());
        }
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
