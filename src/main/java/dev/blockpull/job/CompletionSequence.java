package dev.blockpull.job;

import dev.blockpull.io.Monitor;
import dev.blockpull.job.JobEvent.BlockJobCancelled;
import dev.blockpull.job.JobEvent.BlockJobCompleted;
import dev.blockpull.job.JobEvent.BlockJobPending;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's completion as QEMU's job.c runs it for a transaction of one: completed (the return
 * code), finalize (prepare, then commit or abort, clean, the completion event, concluded) and
 * dismiss ({@code → null}, the final view handed to the history).
 * <p>
 * The sequence runs either on the job thread or, for finalize and cancel-in-pending, on the
 * caller's thread as QMP does; {@link #lock()} serialises it and is always taken before the job's
 * monitor, which is never held across a job hook. The fields are guarded by the monitor.
 */
final class CompletionSequence {

    private static final Logger log = LoggerFactory.getLogger(CompletionSequence.class);

    private final Job job;
    private final JobOptions options;
    private final Clock clock;
    private final JobState state;
    private final Monitor monitor;
    private final PauseState pause;
    private final ProgressState progress;
    private final JobViewFactory views;
    private final Consumer<JobView> retirement;
    private final ReentrantLock serial = new ReentrantLock();

    /** In pending with auto-finalize off: the job thread has handed completion to the finalize/cancel verb. */
    private boolean awaitingFinalize;
    /** QEMU's ret != 0. */
    private boolean aborted;

    private @Nullable Throwable failure;
    private @Nullable String error;
    private @Nullable JobResult result;
    private @Nullable Instant finishedAt;
    private @Nullable JobView finalView;

    CompletionSequence(
            Job job,
            JobOptions options,
            Clock clock,
            JobState state,
            PauseState pause,
            ProgressState progress,
            JobViewFactory views,
            Consumer<JobView> retirement) {
        this.job = job;
        this.options = options;
        this.clock = clock;
        this.state = state;
        this.monitor = state.monitor;
        this.pause = pause;
        this.progress = progress;
        this.views = views;
        this.retirement = retirement;
    }

    // ---------------------------------------------------------------- serialisation

    void lock() {
        serial.lock();
    }

    /** @return false if a completion in progress did not end within the timeout */
    boolean tryLock(long timeoutNanos) throws InterruptedException {
        return serial.tryLock(timeoutNanos, TimeUnit.NANOSECONDS);
    }

    void unlock() {
        serial.unlock();
    }

    // ---------------------------------------------------------------- the sequence

    /** run() has returned, with {@code thrown} if it failed. Monitor held. */
    void runReturned(@Nullable Throwable thrown) {
        failure = thrown;
    }

    /** QEMU's job_completed, on the job thread after run(). */
    void completeAfterRun() {
        serial.lock();
        try {
            boolean failed;
            monitor.lock();
            try {
                failed = updateReturnCode();
                if (!failed) {
                    state.transition(JobStatus.WAITING);
                    state.transition(JobStatus.PENDING);
                    if (!options.autoFinalize()) {
                        state.publish(new BlockJobPending(job.type(), state.id()));
                        awaitingFinalize = true;
                        return;
                    }
                }
            } finally {
                monitor.unlock();
            }
            if (failed) {
                finalizeSingle();
            } else {
                prepareAndFinalize();
            }
        } finally {
            serial.unlock();
        }
    }

    /** QEMU's job_do_finalize: prepare, then commit or (prepare failed) abort. Lock held. */
    void prepareAndFinalize() {
        if (monitor.get(() -> !aborted)) {
            try {
                job.prepare();
            } catch (Throwable t) {
                log.info("Job {} prepare failed: {}", state.id(), t.toString());
                monitor.run(() -> {
                    failure = t;
                    updateReturnCode();
                });
            }
        }
        finalizeSingle();
    }

    /** QEMU's job_finalize_single: commit or abort, clean, the completion event, conclude. Lock held. */
    void finalizeSingle() {
        boolean failed = monitor.get(this::updateReturnCode);
        if (failed) {
            runHook("abort", job::abort);
        } else {
            runHook("commit", job::commit);
        }
        runHook("clean", job::clean);
        monitor.run(() -> conclude(failed));
    }

    private void conclude(boolean failed) {
        boolean cancelled = pause.isCancelled();
        // Completion events only for jobs that were started, as in QEMU.
        if (state.started()) {
            if (cancelled) {
                state.publish(new BlockJobCancelled(
                        job.type(), state.id(), progress.total(), progress.current(), progress.speed()));
            } else {
                state.publish(new BlockJobCompleted(
                        job.type(),
                        state.id(),
                        progress.total(),
                        progress.current(),
                        progress.speed(),
                        failed ? error : null));
            }
        }
        result = cancelled ? JobResult.CANCELLED : failed ? JobResult.FAILED : JobResult.COMPLETED;
        finishedAt = clock.instant();
        awaitingFinalize = false;
        state.transition(JobStatus.CONCLUDED);
        if (options.autoDismiss() || !state.started()) {
            dismiss();
        }
    }

    /** QEMU's job_update_rc: a cancel without error becomes ECANCELED; any error → aborting. Monitor held. */
    private boolean updateReturnCode() {
        if (!aborted && (failure != null || pause.isCancelled())) {
            aborted = true;
            error = failure != null ? job.errorText(failure) : ErrorTexts.CANCELED;
            state.bump();
        }
        if (aborted) {
            state.transition(JobStatus.ABORTING);
        }
        return aborted;
    }

    /** QEMU's job_do_dismiss: {@code → null}; the job leaves the live set for the history. Monitor held. */
    void dismiss() {
        pause.dismissed();
        state.transition(JobStatus.NULL);
        JobView last = views.view(this);
        finalView = last;
        retirement.accept(last);
    }

    /** Parked for a restart: the job's resources are released, its status stays what it was. */
    void releaseParked() {
        runHook("clean", job::clean);
        log.info("Job {} parked for a restart", state.id());
    }

    private void runHook(String hook, Runnable action) {
        try {
            action.run();
        } catch (RuntimeException | Error e) {
            // QEMU's commit/abort/clean return void: nothing may stop the completion sequence.
            log.error("Job {} {} hook failed", state.id(), hook, e);
        }
    }

    // ---------------------------------------------------------------- what views and verbs see (monitor held)

    boolean awaitingFinalize() {
        return awaitingFinalize;
    }

    /** The wait in pending ends: a verb (finalize, cancel) completes the job itself, or it is parked. */
    void stopAwaitingFinalize() {
        awaitingFinalize = false;
    }

    @Nullable
    String error() {
        return error;
    }

    @Nullable
    JobResult result() {
        return result;
    }

    @Nullable
    Instant finishedAt() {
        return finishedAt;
    }

    @Nullable
    JobView finalView() {
        return finalView;
    }
}
