package dev.blockpull.job;

import dev.blockpull.io.DaemonThreads;
import dev.blockpull.io.Monitor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One job under the scheduler: QEMU's Job plus the BlockJob bits (speed, iostatus, on-error).
 * This class starts the job's thread ({@link JobThreadMain}) and answers the verbs and drain
 * hooks; its parts hold the state: {@link JobState} (status, version, the monitor),
 * {@link PauseState} (pause counter and pause points), {@link ProgressState} (progress and
 * speed), {@link CompletionSequence} (completed → finalize → dismiss); {@link JobViewFactory}
 * builds the view and {@link JobThreadContext} is what the job's run sees.
 * <p>
 * Two locks. The monitor guards every field of every part and is held only briefly, never across
 * a job hook, I/O or a quiescence listener, so views and verbs from request threads never wait for
 * the job. The completion lock serialises the completion sequence and is always taken first.
 */
final class ScheduledJob implements JobHandle {

    static final String THREAD_PREFIX = "blockpull-job-";
    private static final DaemonThreads JOB_THREADS = DaemonThreads.dataPath(THREAD_PREFIX);

    /** Called once when the job reaches {@code null}. */
    interface Retirement {
        void retire(ScheduledJob job, JobView finalView, boolean started);
    }

    private final Job job;
    private final JobState state;
    private final Monitor monitor;
    private final PauseState pause;
    private final ProgressState progress;
    private final JobViewFactory views;
    private final CompletionSequence completion;
    private final JobThreadContext context;

    ScheduledJob(
            Job job,
            JobOptions options,
            JobEventBus events,
            JobSchedulerSettings settings,
            Retirement retirement,
            @Nullable JobResumption resumption) {
        this.job = job;
        this.state = new JobState(options.id(), events);
        this.monitor = state.monitor;
        this.pause = new PauseState(state, resumption != null && resumption.paused());
        this.progress = new ProgressState(state, settings);
        this.views = new JobViewFactory(job.type(), options, resumption, settings.clock(), state, pause, progress);
        this.completion = new CompletionSequence(
                job,
                options,
                settings.clock(),
                state,
                pause,
                progress,
                views,
                last -> retirement.retire(this, last, state.started()));
        this.context = new JobThreadContext(job.type(), options.onError(), state, pause, progress);
        state.publishViewsOf(this::viewLocked);
    }

    @Override
    public String id() {
        return state.id();
    }

    // ---------------------------------------------------------------- creation and start

    /** QEMU's job_create: {@code undefined → created}. */
    void markCreated() {
        monitor.run(() -> state.transition(JobStatus.CREATED));
    }

    /** The speed given at creation, applied like set-speed (validation step 13). */
    void applyInitialSpeed(long bytesPerSecond) {
        monitor.run(() -> progress.setSpeed(bytesPerSecond));
    }

    @Override
    public void start() {
        monitor.run(() -> {
            if (state.current() != JobStatus.CREATED || state.started()) {
                throw new JobStateConflictException(
                        "Job '" + id() + "' cannot be started in state '" + state.current() + "'");
            }
            state.markStarted();
            pause.started();
            progress.started();
            state.transition(JobStatus.RUNNING);
            // A daemon (a job stuck in I/O must not keep the JVM alive; shutdown still joins it) of the data path.
            Thread t = JOB_THREADS.newThread(
                    new JobThreadMain(job, state, pause, completion, context), THREAD_PREFIX + id());
            context.bindTo(t);
            t.start();
        });
    }

    @Override
    public void earlyFail() {
        monitor.run(() -> {
            if (state.current() != JobStatus.CREATED || state.started()) {
                throw new IllegalStateException("Job '" + id() + "' is " + state.current() + ", not a created job");
            }
            completion.dismiss();
        });
    }

    // ---------------------------------------------------------------- verbs

    /** Under the monitor: the verb table's check, then {@code action}; answers the view after it. */
    private JobView applyVerb(JobVerb verb, Runnable action) {
        return monitor.get(() -> {
            VerbTable.check(id(), state.current(), verb);
            action.run();
            return viewLocked();
        });
    }

    JobView userPause() {
        return applyVerb(JobVerb.PAUSE, pause::userPause);
    }

    JobView userResume() {
        return monitor.get(() -> {
            pause.checkUserResumable();
            return applyVerb(JobVerb.RESUME, pause::userResume);
        });
    }

    JobView setSpeed(long bytesPerSecond) {
        return applyVerb(JobVerb.SET_SPEED, () -> {
            if (bytesPerSecond < 0) {
                throw new InvalidSpeedException();
            }
            long old = progress.setSpeed(bytesPerSecond);
            state.bump();
            // Only faster (or unlimited) cuts a rate-limit sleep short; the sleep loop recomputes.
            if ((bytesPerSecond == 0 || bytesPerSecond > old) && pause.sleepingOnTimer()) {
                pause.enter();
            }
        });
    }

    /**
     * job-cancel ({@code blockJobStyle=false}, QEMU always forces it) or block-job-cancel
     * (refused for a user-paused job unless forced). Returns at once for a running job, whose
     * thread sees the cancel at its next pause point; a created job or one waiting in pending is
     * aborted right here, as QMP does.
     */
    JobView cancel(boolean force, boolean blockJobStyle) {
        completion.lock();
        try {
            monitor.run(() -> {
                if (blockJobStyle && pause.userPaused() && !force) {
                    throw new JobStateConflictException("The block job for device '" + id() + "' is currently paused");
                }
                VerbTable.check(id(), state.current(), JobVerb.CANCEL);
            });
            cancelChecked(blockJobStyle ? force : true);
            return view();
        } finally {
            completion.unlock();
        }
    }

    /** QEMU's job_cancel_sync at exit: no verb check; a concluded job is dismissed. */
    void cancelForShutdown(long timeoutNanos) throws InterruptedException {
        if (!completion.tryLock(timeoutNanos)) {
            return;
        }
        try {
            monitor.lock();
            try {
                if (state.current() == JobStatus.NULL) {
                    return;
                }
                if (state.current() == JobStatus.CONCLUDED) {
                    completion.dismiss();
                    return;
                }
            } finally {
                monitor.unlock();
            }
            cancelChecked(true);
        } finally {
            completion.unlock();
        }
    }

    /**
     * Parks the job for a restart instead of cancelling it: a job still in its run unwinds from
     * its pause point (where the scheduler's drain holds it) and releases what it holds, without
     * concluding; so does a job waiting in {@code pending} for finalize (on this thread: it has
     * none). A concluded job is left as it is. Waiting for the completion lock lets a completion
     * in progress end first.
     */
    void park(long timeoutNanos) throws InterruptedException {
        if (!completion.tryLock(timeoutNanos)) {
            return;
        }
        try {
            boolean waitsForFinalize;
            monitor.lock();
            try {
                if (!state.started()
                        || state.current() == JobStatus.NULL
                        || (state.runReturned() && !completion.awaitingFinalize())) {
                    return;
                }
                waitsForFinalize = completion.awaitingFinalize();
                completion.stopAwaitingFinalize();
                pause.park();
            } finally {
                monitor.unlock();
            }
            if (waitsForFinalize) {
                completion.releaseParked();
            }
        } finally {
            completion.unlock();
        }
    }

    /**
     * QEMU's job_cancel after the checks. Caller holds the completion lock; the job's own cancel
     * hook runs before the monitor is taken.
     */
    private void cancelChecked(boolean force) {
        boolean forcedByJob = job.cancel(force);
        boolean completeHere = monitor.get(() -> {
            // A job that never ran cannot complete: its cancel is always forced.
            boolean forced = forcedByJob || !state.started();
            // A soft cancel of a job whose run has returned is ignored (QEMU job_cancel_async).
            pause.requestCancel(forced, forced || !state.runReturned());
            boolean here = !state.started() || (completion.awaitingFinalize() && pause.isCancelled());
            if (state.started() && !state.runReturned()) {
                pause.enter();
            }
            if (here) {
                completion.stopAwaitingFinalize();
            }
            return here;
        });
        if (completeHere) {
            completion.finalizeSingle();
        }
    }

    JobView finalizeJob() {
        completion.lock();
        try {
            monitor.run(() -> {
                VerbTable.check(id(), state.current(), JobVerb.FINALIZE);
                completion.stopAwaitingFinalize();
            });
            completion.prepareAndFinalize();
            return view();
        } finally {
            completion.unlock();
        }
    }

    JobView dismiss() {
        return applyVerb(JobVerb.DISMISS, completion::dismiss);
    }

    JobView complete() {
        monitor.run(() -> {
            VerbTable.check(id(), state.current(), JobVerb.COMPLETE);
            if (pause.cancelRequested() || !job.supportsComplete()) {
                throw new JobStateConflictException("The active block job '" + id() + "' cannot be completed");
            }
        });
        job.complete();
        return view();
    }

    // ---------------------------------------------------------------- drain hooks

    @Override
    public void drainedBegin() {
        monitor.run(pause::pause);
    }

    @Override
    public void drainedEnd() {
        monitor.run(pause::resume);
    }

    @Override
    public boolean isQuiescent() {
        return monitor.get(pause::quiescent);
    }

    @Override
    public boolean awaitQuiescent(Duration timeout) throws InterruptedException {
        return monitor.awaitUntil(pause::quiescent, timeout);
    }

    @Override
    public void addQuiescenceListener(Runnable listener) {
        pause.addQuiescenceListener(listener);
    }

    /** Waits for the job thread to end; true if it has (or never existed). */
    boolean joinThread(long timeoutNanos) throws InterruptedException {
        Thread t = context.thread();
        if (t == null) {
            return true;
        }
        TimeUnit.NANOSECONDS.timedJoin(t, Math.max(timeoutNanos, 1));
        return !t.isAlive();
    }

    // ---------------------------------------------------------------- views

    /**
     * The job as it is now; while another thread holds the monitor, as it was when the monitor was
     * last let go after a change (never a half-made change), so that a request thread does not wait
     * for a preempted data-path thread; unless that thread has published an event in its hold.
     */
    @Override
    public JobView view() {
        if (monitor.tryLock()) {
            try {
                JobView fresh = viewLocked();
                state.published(fresh);
                return fresh;
            } finally {
                monitor.unlock();
            }
        }
        JobView published = state.publishedView();
        return published != null ? published : monitor.get(this::viewLocked);
    }

    JobStatus status() {
        return state.status();
    }

    private JobView viewLocked() {
        JobView last = completion.finalView();
        return last != null ? last : views.view(completion);
    }
}
