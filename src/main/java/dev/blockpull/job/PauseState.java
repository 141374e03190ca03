package dev.blockpull.job;

import dev.blockpull.io.Monitor;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's pause machinery, as QEMU's job.c keeps it: the pause counter, parked/busy/sleeping,
 * the cancel flags its pause points obey, and the pause points themselves. Guarded by the job's
 * monitor. The pause points ({@link #pausePoint(LongSupplier)}, {@link #initialPausePoint}) take
 * it themselves, on the job thread, because a job that parks or sleeps tells its quiescence
 * listeners with the monitor free; every other method expects it held.
 * <p>
 * Pause and cancel are flags checked at pause points, never thread interrupts: an interrupt
 * would close the FileChannels the job is using.
 */
final class PauseState {

    private static final Logger log = LoggerFactory.getLogger(PauseState.class);

    private final JobState state;
    private final Monitor monitor;
    private final QuiescenceListeners quiescenceListeners;

    /** QEMU's pause_count: user pause (1) + error stop (shares the user flag) + drains; 1 until started. */
    private int pauseCount = 1;

    private boolean userPaused;
    private IoStatus ioStatus = IoStatus.OK;
    /** Standing at a pause point (QEMU's job->paused). */
    private boolean parked;

    private boolean busy;
    private boolean sleepingOnTimer;
    private boolean wokenEarly;
    private boolean cancelRequested;
    private boolean forceCancel;
    /** The service parks the job for a restart: its pause points unwind instead of waiting. */
    private boolean parking;

    /** {@code userPaused}: a user pause from before a restart; the job parks at its first pause point. */
    PauseState(JobState state, boolean userPaused) {
        this.state = state;
        this.monitor = state.monitor;
        this.quiescenceListeners = new QuiescenceListeners(state.id(), monitor);
        if (userPaused) {
            this.userPaused = true;
            pauseCount++;
        }
    }

    // ---------------------------------------------------------------- counters

    /** job_start: the pause of a created job ends and job code runs. */
    void started() {
        pauseCount--;
        busy = true;
        state.viewChanged();
    }

    /** An internal or user pause: counter +1, and a job not parked yet is hurried to its pause point. */
    void pause() {
        pauseCount++;
        state.bump();
        if (!parked) {
            enter();
        }
    }

    void resume() {
        if (pauseCount <= 0) {
            throw new IllegalStateException("Job '" + state.id() + "' resumed more often than paused");
        }
        pauseCount--;
        state.bump();
        if (pauseCount == 0) {
            enter();
        }
    }

    /** QEMU's job_enter: cut a rate-limit sleep short, or let a parked job re-check its pause. */
    void enter() {
        if (sleepingOnTimer) {
            wokenEarly = true;
        }
        monitor.signalAll();
    }

    // ---------------------------------------------------------------- user pause and error stop

    void userPause() {
        if (userPaused) {
            throw new JobStateConflictException("Job is already paused");
        }
        userPaused = true;
        pause();
    }

    /** QEMU checks this before the verb table. */
    void checkUserResumable() {
        if (!userPaused || pauseCount <= 0) {
            throw new JobStateConflictException("Can't resume a job that was not paused");
        }
    }

    /** block_job_user_resume + job_user_resume: the error that stopped the job is forgotten. */
    void userResume() {
        ioStatus = IoStatus.OK;
        userPaused = false;
        resume();
    }

    /** on-error=stop: made a user pause so that resume is accepted; the first error's kind sticks. */
    void errorStop(boolean noSpace) {
        if (!userPaused) {
            pause();
            userPaused = true;
        }
        if (ioStatus == IoStatus.OK) {
            ioStatus = noSpace ? IoStatus.NOSPACE : IoStatus.FAILED;
        }
        state.bump();
    }

    // ---------------------------------------------------------------- cancel and park

    /** job_cancel_async: a user pause (and the error behind it) ends with the cancel. */
    void requestCancel(boolean forced, boolean honoured) {
        if (userPaused) {
            userPaused = false;
            ioStatus = IoStatus.OK;
            pauseCount--;
        }
        if (honoured) {
            cancelRequested = true;
            forceCancel |= forced;
        }
        state.bump();
    }

    boolean isCancelled() {
        return forceCancel;
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    /** For a restart: pause points unwind with {@link JobParkedException}. */
    void park() {
        parking = true;
        enter();
    }

    boolean isParking() {
        return parking;
    }

    // ---------------------------------------------------------------- what views and drains see

    boolean busy() {
        return busy;
    }

    boolean paused() {
        return pauseCount > 0;
    }

    boolean userPaused() {
        return userPaused;
    }

    IoStatus ioStatus() {
        return ioStatus;
    }

    boolean sleepingOnTimer() {
        return sleepingOnTimer;
    }

    /** Whether the next pause point would park or throw. */
    boolean pauseRequested() {
        return pauseCount > 0 || isCancelled();
    }

    /** QEMU's drained_poll inverted: no job code runs. */
    boolean quiescent() {
        return !busy || state.runReturned() || state.current().isCompleted();
    }

    /** QEMU's job_exit says the same lie: completion drains nodes, so the job must look idle. */
    void runReturned() {
        busy = false;
        state.viewChanged();
        quiescenceListeners.announce();
    }

    void dismissed() {
        busy = false;
        state.viewChanged();
    }

    void addQuiescenceListener(Runnable listener) {
        quiescenceListeners.add(listener);
    }

    // ---------------------------------------------------------------- pause points (job thread, monitor free)

    /** Before run(): parks a job paused before it started; only a park for a restart unwinds. */
    void initialPausePoint() {
        pausePoint();
        monitor.run(this::throwIfParking);
    }

    /**
     * The pause point of a run loop (QEMU ≥ 8.1's block_job_ratelimit_sleep): sleep at least once;
     * after an early wake-up recompute the delay with the current speed, so wake-ups never let the
     * job exceed its limit; then unwind a parking job, then a cancelled one.
     */
    void pausePoint(LongSupplier rateLimitDelay) {
        long delay;
        do {
            delay = sleep(rateLimitDelay);
        } while (delay > 0 && monitor.get(() -> !stopping()));
        monitor.run(() -> {
            throwIfParking();
            if (isCancelled()) {
                throw new JobCancelledException(state.id());
            }
        });
    }

    /**
     * QEMU's job_sleep_ns: a timed sleep (unless a pause is due or the job stops), then a pause
     * point. The delay is taken under the monitor, so a set-speed cannot slip in before the sleep.
     *
     * @return the delay the rate limit asked for
     */
    private long sleep(LongSupplier rateLimitDelay) {
        long nanos;
        boolean sleeping;
        monitor.lock();
        try {
            nanos = rateLimitDelay.getAsLong();
            if (stopping()) {
                return nanos;
            }
            sleeping = pauseCount == 0 && nanos > 0;
            if (sleeping) {
                busy = false;
                sleepingOnTimer = true;
                wokenEarly = false;
                state.bump();
                monitor.signalAll();
                quiescenceListeners.announce();
            }
        } finally {
            monitor.unlock();
        }
        if (sleeping) {
            sleepOnTimer(nanos);
        }
        pausePoint();
        return nanos;
    }

    private void sleepOnTimer(long nanos) {
        monitor.lock();
        try {
            long remaining = nanos;
            while (!wokenEarly && remaining > 0 && !parking) {
                try {
                    remaining = monitor.awaitNanos(remaining);
                } catch (InterruptedException e) {
                    // Nobody should interrupt a job thread; swallowing clears the flag, which
                    // would otherwise make the next FileChannel operation close the image.
                    log.warn("Job {} thread was interrupted while sleeping; ignored", state.id());
                }
            }
            sleepingOnTimer = false;
            wokenEarly = false;
            busy = true;
            state.bump();
        } finally {
            monitor.unlock();
        }
    }

    /** QEMU's job_pause_point: park while a pause is requested and the job is not cancelled. */
    private void pausePoint() {
        JobStatus resumeTo;
        monitor.lock();
        try {
            if (pauseCount == 0 || isCancelled()) {
                return;
            }
            resumeTo = state.current();
            state.transition(resumeTo == JobStatus.READY ? JobStatus.STANDBY : JobStatus.PAUSED);
            parked = true;
            busy = false;
            state.bump();
            monitor.signalAll();
            quiescenceListeners.announce();
        } finally {
            monitor.unlock();
        }
        monitor.lock();
        try {
            while (pauseCount > 0 && !isCancelled() && !parking) {
                try {
                    monitor.await();
                } catch (InterruptedException e) {
                    log.warn("Job {} thread was interrupted while paused; ignored", state.id());
                }
            }
            if (parking) {
                return; // stays paused for good: the status a parked job leaves behind
            }
            parked = false;
            busy = true;
            state.bump();
            state.transition(resumeTo);
        } finally {
            monitor.unlock();
        }
    }

    private boolean stopping() {
        return isCancelled() || parking;
    }

    private void throwIfParking() {
        if (parking) {
            throw new JobParkedException(state.id());
        }
    }
}
