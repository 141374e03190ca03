package dev.blockpull.job;

import dev.blockpull.io.Monitor;
import dev.blockpull.job.JobEvent.BlockJobError;
import dev.blockpull.job.JobEvent.BlockJobReady;
import org.jspecify.annotations.Nullable;

/** What a job's run() sees: the {@link JobContext} of one scheduled job, used on its thread. */
final class JobThreadContext implements JobContext {

    private final String type;
    private final OnErrorPolicy onError;
    private final JobState state;
    private final Monitor monitor;
    private final PauseState pause;
    private final ProgressState progress;
    private volatile @Nullable Thread thread;

    JobThreadContext(String type, OnErrorPolicy onError, JobState state, PauseState pause, ProgressState progress) {
        this.type = type;
        this.onError = onError;
        this.state = state;
        this.monitor = state.monitor;
        this.pause = pause;
        this.progress = progress;
    }

    /** The one thread allowed to call {@link #pausePoint()}. */
    void bindTo(Thread jobThread) {
        thread = jobThread;
    }

    /** The job's thread; null until started. */
    @Nullable
    Thread thread() {
        return thread;
    }

    @Override
    public String jobId() {
        return state.id();
    }

    @Override
    public void pausePoint() {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("pausePoint() of job '" + state.id() + "' called outside its thread");
        }
        pause.pausePoint(progress::rateLimitDelay);
    }

    @Override
    public boolean isCancelled() {
        return monitor.get(pause::isCancelled);
    }

    @Override
    public boolean pauseRequested() {
        return monitor.get(pause::pauseRequested);
    }

    @Override
    public long speed() {
        return monitor.get(progress::speed);
    }

    @Override
    public void setProgressRemaining(long remaining) {
        monitor.run(() -> progress.setRemaining(remaining));
    }

    @Override
    public void addProgress(long bytes) {
        monitor.run(() -> progress.add(bytes));
    }

    @Override
    public void rateLimitAccount(long bytes) {
        progress.rateLimitAccount(bytes);
    }

    @Override
    public long rateLimitDelay() {
        return progress.rateLimitDelay();
    }

    @Override
    public ErrorAction handleError(Throwable cause, IoOperation operation) {
        boolean noSpace = ErrorTexts.isNoSpace(cause);
        ErrorAction action = onError.decide(noSpace);
        monitor.run(() -> {
            if (!pause.isCancelled()) {
                state.publish(new BlockJobError(state.id(), operation, action));
            }
            if (action == ErrorAction.STOP) {
                pause.errorStop(noSpace);
            }
        });
        return action;
    }

    @Override
    public void transitionToReady() {
        monitor.run(() -> {
            state.transition(JobStatus.READY);
            state.publish(new BlockJobReady(type, state.id(), progress.total(), progress.current(), progress.speed()));
        });
    }
}
