package dev.blockpull.job;

import dev.blockpull.job.JobEvent.BlockJobCancelled;
import dev.blockpull.job.JobEvent.BlockJobCompleted;
import dev.blockpull.job.JobEvent.BlockJobError;
import dev.blockpull.job.JobEvent.BlockJobPending;
import dev.blockpull.job.JobEvent.BlockJobReady;
import dev.blockpull.job.JobEvent.JobProgress;
import dev.blockpull.job.JobEvent.JobStatusChange;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * One job under the scheduler: QEMU's Job plus the BlockJob bits (speed, iostatus, on-error).
 * <p>
 * Two locks. {@code lock} guards every field and is held only briefly (never across a job hook or
 * I/O), so views and verbs from request threads never wait for the job. {@code completion}
 * serialises the completion sequence (prepare/commit/abort/clean), which runs either on the job
 * thread or, for finalize and cancel-in-pending, on the caller's thread as QMP does; it is always
 * taken before {@code lock}. Pause and cancel are flags checked at pause points, never thread
 * interrupts: an interrupt would close the FileChannels the job is using.
 */
final class ScheduledJob implements JobHandle {

    private static final Logger log = LoggerFactory.getLogger(ScheduledJob.class);
    static final String THREAD_PREFIX = "blockpull-job-";

    /** Called once when the job reaches {@code null}. */
    interface Retirement {
        void retire(ScheduledJob job, JobView finalView, boolean started);
    }

    private final Job job;
    private final JobOptions options;
    private final JobEventBus events;
    private final Clock clock;
    private final Retirement retirement;
    private final RateLimiter limiter;
    private final ThroughputMeter throughput;
    private final LongSupplier nanoTime;
    private final long progressIntervalNanos;
    private final Instant createdAt;
    private final int restarts;
    private final @Nullable Instant resumedAt;
    private final Context context = new Context();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ReentrantLock completion = new ReentrantLock();
    private final List<Runnable> quiescenceListeners = new CopyOnWriteArrayList<>();

    // All below guarded by lock.
    private JobStatus status = JobStatus.UNDEFINED;
    /** QEMU's pause_count: user pause (1) + error stop (shares the user flag) + drains; 1 until started. */
    private int pauseCount = 1;
    private boolean userPaused;
    /** Standing at a pause point (QEMU's job->paused). */
    private boolean parked;
    private boolean busy;
    private boolean sleepingOnTimer;
    private boolean wokenEarly;
    private boolean cancelRequested;
    private boolean forceCancel;
    /** The service parks the job for a restart: its pause points unwind instead of waiting. */
    private boolean parking;
    private boolean started;
    /** run() has returned (QEMU's deferred_to_main_loop). */
    private boolean deferred;
    /** In pending with auto-finalize off: the job thread has handed completion to the finalize/cancel verb. */
    private boolean awaitingFinalize;
    /** QEMU's ret != 0. */
    private boolean aborted;
    private @Nullable Throwable failure;
    private @Nullable String error;
    private @Nullable JobResult result;
    private @Nullable Instant finishedAt;
    private @Nullable JobView finalView;
    private @Nullable Thread thread;
    private long speed;
    private IoStatus ioStatus = IoStatus.OK;
    private long currentProgress;
    private long totalProgress;
    private long version;
    private long lastProgressEventAt;

    ScheduledJob(Job job, JobOptions options, JobEventBus events, JobSchedulerSettings settings,
                 Retirement retirement, @Nullable JobResumption resumption) {
        this.job = job;
        this.options = options;
        this.events = events;
        this.clock = settings.clock();
        this.retirement = retirement;
        this.limiter = new RateLimiter(settings.nanoTime());
        this.throughput = new ThroughputMeter(settings.throughputWindow(), settings.nanoTime());
        this.nanoTime = settings.nanoTime();
        this.progressIntervalNanos = settings.progressInterval().toNanos();
        this.createdAt = resumption == null ? clock.instant() : resumption.createdAt();
        this.restarts = resumption == null ? 0 : resumption.restarts();
        this.resumedAt = resumption == null ? null : resumption.resumedAt();
        if (resumption != null && resumption.paused()) {
            // A user pause from before the restart: the job parks at its first pause point.
            userPaused = true;
            pauseCount++;
        }
    }

    @Override
    public String id() {
        return options.id();
    }

    // ---------------------------------------------------------------- creation and start

    /** QEMU's job_create: {@code undefined → created}. */
    void markCreated() {
        lock.lock();
        try {
            transition(JobStatus.CREATED);
        } finally {
            lock.unlock();
        }
    }

    /** The speed given at creation, applied like set-speed (validation step 13). */
    void applyInitialSpeed(long bytesPerSecond) {
        lock.lock();
        try {
            limiter.setSpeed(bytesPerSecond);
            speed = bytesPerSecond;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void start() {
        lock.lock();
        try {
            if (status != JobStatus.CREATED || started) {
                throw new JobStateConflictException("Job '" + id() + "' cannot be started in state '" + status + "'");
            }
            started = true;
            pauseCount--;
            busy = true;
            throughput.start();
            lastProgressEventAt = nanoTime.getAsLong();
            transition(JobStatus.RUNNING);
            Thread t = new Thread(this::threadMain, THREAD_PREFIX + id());
            // Daemon: a job stuck in I/O must not keep the JVM alive; shutdown still joins it.
            t.setDaemon(true);
            thread = t;
            t.start();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void earlyFail() {
        lock.lock();
        try {
            if (status != JobStatus.CREATED || started) {
                throw new IllegalStateException("Job '" + id() + "' is " + status + ", not a created job");
            }
            dismissLocked();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- the job thread

    private void threadMain() {
        MDC.put("jobId", id());
        try {
            Throwable thrown = null;
            try {
                context.initialPausePoint();
                job.run(context);
            } catch (JobParkedException e) {
                releaseParked();
                return;
            } catch (JobCancelledException e) {
                if (!context.isCancelled()) {
                    thrown = e;
                }
            } catch (Throwable t) {
                // Errors too: a job thread must always reach completion or the job hangs in running.
                thrown = t;
            }
            if (thrown != null) {
                log.info("Job {} failed: {}", id(), thrown.toString());
                log.debug("Job {} failure", id(), thrown);
            }
            runReturned(thrown);
            announceQuiescent();
            completeAfterRun();
        } catch (RuntimeException | Error e) {
            log.error("Job {} completion failed", id(), e);
        } finally {
            MDC.remove("jobId");
        }
    }

    /** Parked for a restart: the job's resources are released, its status stays what it was. */
    private void releaseParked() {
        safely("clean", job::clean);
        log.info("Job {} parked for a restart", id());
    }

    private void runReturned(@Nullable Throwable thrown) {
        lock.lock();
        try {
            deferred = true;
            // QEMU's job_exit says the same lie: completion drains nodes, so the job must look idle.
            busy = false;
            failure = thrown;
            version++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- completion (QEMU job.c)

    /** QEMU's job_completed for a transaction of one. */
    private void completeAfterRun() {
        completion.lock();
        try {
            boolean failed;
            lock.lock();
            try {
                failed = updateReturnCodeLocked();
                if (!failed) {
                    transition(JobStatus.WAITING);
                    transition(JobStatus.PENDING);
                    if (!options.autoFinalize()) {
                        events.publish(new BlockJobPending(job.type(), id()));
                        awaitingFinalize = true;
                        return;
                    }
                }
            } finally {
                lock.unlock();
            }
            if (failed) {
                finalizeSingle();
            } else {
                prepareAndFinalize();
            }
        } finally {
            completion.unlock();
        }
    }

    /** QEMU's job_do_finalize: prepare, then commit or (prepare failed) abort. Holds completion. */
    private void prepareAndFinalize() {
        boolean ok;
        lock.lock();
        try {
            ok = !aborted;
        } finally {
            lock.unlock();
        }
        if (ok) {
            try {
                job.prepare();
            } catch (Throwable t) {
                log.info("Job {} prepare failed: {}", id(), t.toString());
                lock.lock();
                try {
                    failure = t;
                    updateReturnCodeLocked();
                } finally {
                    lock.unlock();
                }
            }
        }
        finalizeSingle();
    }

    /** QEMU's job_finalize_single: commit or abort, clean, the completion event, conclude. */
    private void finalizeSingle() {
        boolean failed;
        lock.lock();
        try {
            failed = updateReturnCodeLocked();
        } finally {
            lock.unlock();
        }
        if (failed) {
            safely("abort", job::abort);
        } else {
            safely("commit", job::commit);
        }
        safely("clean", job::clean);
        lock.lock();
        try {
            boolean cancelled = isCancelledLocked();
            // Completion events only for jobs that were started, as in QEMU.
            if (started) {
                if (cancelled) {
                    events.publish(new BlockJobCancelled(job.type(), id(), totalProgress, currentProgress, speed));
                } else {
                    events.publish(new BlockJobCompleted(job.type(), id(), totalProgress, currentProgress, speed,
                            failed ? error : null));
                }
            }
            result = cancelled ? JobResult.CANCELLED : failed ? JobResult.FAILED : JobResult.COMPLETED;
            finishedAt = clock.instant();
            awaitingFinalize = false;
            transition(JobStatus.CONCLUDED);
            if (options.autoDismiss() || !started) {
                dismissLocked();
            }
        } finally {
            lock.unlock();
        }
    }

    /** QEMU's job_update_rc: a cancel without error becomes ECANCELED; any error → aborting. */
    private boolean updateReturnCodeLocked() {
        if (!aborted && (failure != null || isCancelledLocked())) {
            aborted = true;
            error = failure != null ? job.errorText(failure) : ErrorTexts.CANCELED;
            version++;
        }
        if (aborted) {
            transition(JobStatus.ABORTING);
        }
        return aborted;
    }

    /** QEMU's job_do_dismiss: {@code → null}; the job leaves the live set for the history. */
    private void dismissLocked() {
        busy = false;
        transition(JobStatus.NULL);
        JobView last = viewLocked();
        finalView = last;
        retirement.retire(this, last, started);
    }

    private void safely(String hook, Runnable action) {
        try {
            action.run();
        } catch (RuntimeException | Error e) {
            // QEMU's commit/abort/clean return void: nothing may stop the completion sequence.
            log.error("Job {} {} hook failed", id(), hook, e);
        }
    }

    // ---------------------------------------------------------------- verbs

    JobView userPause() {
        lock.lock();
        try {
            VerbTable.check(id(), status, JobVerb.PAUSE);
            if (userPaused) {
                throw new JobStateConflictException("Job is already paused");
            }
            userPaused = true;
            pauseLocked();
            return viewLocked();
        } finally {
            lock.unlock();
        }
    }

    JobView userResume() {
        lock.lock();
        try {
            // QEMU checks this before the verb table.
            if (!userPaused || pauseCount <= 0) {
                throw new JobStateConflictException("Can't resume a job that was not paused");
            }
            VerbTable.check(id(), status, JobVerb.RESUME);
            userResumeLocked();
            return viewLocked();
        } finally {
            lock.unlock();
        }
    }

    /** block_job_user_resume + job_user_resume: the error that stopped the job is forgotten. */
    private void userResumeLocked() {
        ioStatus = IoStatus.OK;
        userPaused = false;
        resumeLocked();
    }

    JobView setSpeed(long bytesPerSecond) {
        lock.lock();
        try {
            VerbTable.check(id(), status, JobVerb.SET_SPEED);
            if (bytesPerSecond < 0) {
                throw new InvalidSpeedException();
            }
            long old = speed;
            limiter.setSpeed(bytesPerSecond);
            speed = bytesPerSecond;
            version++;
            // Only faster (or unlimited) cuts a rate-limit sleep short; the sleep loop recomputes.
            if ((bytesPerSecond == 0 || bytesPerSecond > old) && sleepingOnTimer) {
                enterLocked();
            }
            return viewLocked();
        } finally {
            lock.unlock();
        }
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
            lock.lock();
            try {
                if (blockJobStyle && userPaused && !force) {
                    throw new JobStateConflictException("The block job for device '" + id() + "' is currently paused");
                }
                VerbTable.check(id(), status, JobVerb.CANCEL);
            } finally {
                lock.unlock();
            }
            cancelChecked(blockJobStyle ? force : true);
            return view();
        } finally {
            completion.unlock();
        }
    }

    /** QEMU's job_cancel_sync at exit: no verb check; a concluded job is dismissed. */
    void cancelForShutdown(long timeoutNanos) throws InterruptedException {
        if (!completion.tryLock(timeoutNanos, TimeUnit.NANOSECONDS)) {
            return;
        }
        try {
            lock.lock();
            try {
                if (status == JobStatus.NULL) {
                    return;
                }
                if (status == JobStatus.CONCLUDED) {
                    dismissLocked();
                    return;
                }
            } finally {
                lock.unlock();
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
        if (!completion.tryLock(timeoutNanos, TimeUnit.NANOSECONDS)) {
            return;
        }
        try {
            boolean waitsForFinalize;
            lock.lock();
            try {
                if (!started || status == JobStatus.NULL || (deferred && !awaitingFinalize)) {
                    return;
                }
                waitsForFinalize = awaitingFinalize;
                awaitingFinalize = false;
                parking = true;
                enterLocked();
            } finally {
                lock.unlock();
            }
            if (waitsForFinalize) {
                releaseParked();
            }
        } finally {
            completion.unlock();
        }
    }

    /** QEMU's job_cancel after the checks. Caller holds completion. */
    private void cancelChecked(boolean force) {
        boolean completeHere;
        lock.lock();
        try {
            boolean forced = job.cancel(force);
            if (userPaused) {
                userPaused = false;
                ioStatus = IoStatus.OK;
                pauseCount--;
            }
            // A job that never ran cannot complete: its cancel is always forced.
            forced |= !started;
            // A soft cancel of a job whose run has returned is ignored (QEMU job_cancel_async).
            if (forced || !deferred) {
                cancelRequested = true;
                forceCancel |= forced;
            }
            version++;
            completeHere = !started || (awaitingFinalize && isCancelledLocked());
            if (started && !deferred) {
                enterLocked();
            }
            if (completeHere) {
                awaitingFinalize = false;
            }
        } finally {
            lock.unlock();
        }
        if (completeHere) {
            finalizeSingle();
        }
    }

    JobView finalizeJob() {
        completion.lock();
        try {
            lock.lock();
            try {
                VerbTable.check(id(), status, JobVerb.FINALIZE);
                awaitingFinalize = false;
            } finally {
                lock.unlock();
            }
            prepareAndFinalize();
            return view();
        } finally {
            completion.unlock();
        }
    }

    JobView dismiss() {
        lock.lock();
        try {
            VerbTable.check(id(), status, JobVerb.DISMISS);
            dismissLocked();
            return viewLocked();
        } finally {
            lock.unlock();
        }
    }

    JobView complete() {
        lock.lock();
        try {
            VerbTable.check(id(), status, JobVerb.COMPLETE);
            if (cancelRequested || !job.supportsComplete()) {
                throw new JobStateConflictException("The active block job '" + id() + "' cannot be completed");
            }
        } finally {
            lock.unlock();
        }
        job.complete();
        return view();
    }

    // ---------------------------------------------------------------- drain hooks

    @Override
    public void drainedBegin() {
        lock.lock();
        try {
            pauseLocked();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void drainedEnd() {
        lock.lock();
        try {
            resumeLocked();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean isQuiescent() {
        lock.lock();
        try {
            return quiescentLocked();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean awaitQuiescent(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (!quiescentLocked()) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = changed.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void addQuiescenceListener(Runnable listener) {
        quiescenceListeners.add(listener);
    }

    /**
     * Tells listeners the job just became quiescent. Runs with the job lock fully released: a
     * drain coordinator calls {@link #isQuiescent()} under its own lock, so calling it under ours
     * would invert the lock order. Callers re-check their wait conditions afterwards.
     */
    private void announceQuiescent() {
        if (quiescenceListeners.isEmpty()) {
            return;
        }
        int holds = lock.getHoldCount();
        for (int i = 0; i < holds; i++) {
            lock.unlock();
        }
        try {
            for (Runnable listener : quiescenceListeners) {
                try {
                    listener.run();
                } catch (RuntimeException e) {
                    log.warn("Quiescence listener of job {} failed", id(), e);
                }
            }
        } finally {
            for (int i = 0; i < holds; i++) {
                lock.lock();
            }
        }
    }

    private boolean quiescentLocked() {
        return !busy || deferred || status.isCompleted();
    }

    /** Waits for the job thread to end; true if it has (or never existed). */
    boolean joinThread(long timeoutNanos) throws InterruptedException {
        Thread t;
        lock.lock();
        try {
            t = thread;
        } finally {
            lock.unlock();
        }
        if (t == null) {
            return true;
        }
        TimeUnit.NANOSECONDS.timedJoin(t, Math.max(timeoutNanos, 1));
        return !t.isAlive();
    }

    // ---------------------------------------------------------------- pause machinery

    private void pauseLocked() {
        pauseCount++;
        version++;
        if (!parked) {
            enterLocked();
        }
    }

    private void resumeLocked() {
        if (pauseCount <= 0) {
            throw new IllegalStateException("Job '" + id() + "' resumed more often than paused");
        }
        pauseCount--;
        version++;
        if (pauseCount == 0) {
            enterLocked();
        }
    }

    /** QEMU's job_enter: cut a rate-limit sleep short, or let a parked job re-check its pause. */
    private void enterLocked() {
        if (sleepingOnTimer) {
            wokenEarly = true;
        }
        changed.signalAll();
    }

    private boolean isCancelledLocked() {
        return forceCancel;
    }

    /** QEMU's job_sleep_ns: a timed sleep (unless a pause is due), then a pause point. */
    private void sleepLocked(long nanos) {
        if (isCancelledLocked() || parking) {
            return;
        }
        if (pauseCount == 0 && nanos > 0) {
            busy = false;
            sleepingOnTimer = true;
            wokenEarly = false;
            version++;
            changed.signalAll();
            announceQuiescent();
            long remaining = nanos;
            while (!wokenEarly && remaining > 0 && !parking) {
                try {
                    remaining = changed.awaitNanos(remaining);
                } catch (InterruptedException e) {
                    // Nobody should interrupt a job thread; swallowing clears the flag, which
                    // would otherwise make the next FileChannel operation close the image.
                    log.warn("Job {} thread was interrupted while sleeping; ignored", id());
                }
            }
            sleepingOnTimer = false;
            wokenEarly = false;
            busy = true;
            version++;
        }
        pausePointLocked();
    }

    /** QEMU's job_pause_point: park while a pause is requested and the job is not cancelled. */
    private void pausePointLocked() {
        if (pauseCount == 0 || isCancelledLocked()) {
            return;
        }
        JobStatus resumeTo = status;
        transition(resumeTo == JobStatus.READY ? JobStatus.STANDBY : JobStatus.PAUSED);
        parked = true;
        busy = false;
        version++;
        changed.signalAll();
        announceQuiescent();
        while (pauseCount > 0 && !isCancelledLocked() && !parking) {
            try {
                changed.await();
            } catch (InterruptedException e) {
                log.warn("Job {} thread was interrupted while paused; ignored", id());
            }
        }
        if (parking) {
            return; // stays paused for good: the status a parked job leaves behind
        }
        parked = false;
        busy = true;
        version++;
        transition(resumeTo);
    }

    /** The one transition function: table check, status, version, JOB_STATUS_CHANGE. */
    private void transition(JobStatus to) {
        JobStatus from = status;
        StatusTransitions.check(from, to);
        status = to;
        version++;
        changed.signalAll();
        if (from != to) {
            events.publish(new JobStatusChange(id(), to));
        }
    }

    // ---------------------------------------------------------------- views

    @Override
    public JobView view() {
        lock.lock();
        try {
            return finalView != null ? finalView : viewLocked();
        } finally {
            lock.unlock();
        }
    }

    JobStatus status() {
        lock.lock();
        try {
            return status;
        } finally {
            lock.unlock();
        }
    }

    private JobView viewLocked() {
        boolean finished = finishedAt != null;
        long bps = finished ? 0 : throughput.bytesPerSecond();
        Long eta = etaSecondsLocked(bps);
        return new JobView(id(), job.type(), status, options.device(), currentProgress, totalProgress, speed,
                busy, pauseCount > 0 && !status.isCompleted(), ioStatus,
                status == JobStatus.READY || status == JobStatus.STANDBY, error, result, bps, eta, createdAt,
                finishedAt, options.autoFinalize(), options.autoDismiss(), version, restarts, resumedAt, userPaused);
    }

    private @Nullable Long etaSecondsLocked(long bytesPerSecond) {
        if (status == JobStatus.RUNNING && totalProgress > 0 && bytesPerSecond > 0) {
            return (totalProgress - currentProgress + bytesPerSecond - 1) / bytesPerSecond;
        }
        return null;
    }

    /** A JOB_PROGRESS once per progress interval, from the job thread as it makes progress. */
    private void publishProgressLocked() {
        long now = nanoTime.getAsLong();
        if (status != JobStatus.RUNNING || now - lastProgressEventAt < progressIntervalNanos) {
            return;
        }
        lastProgressEventAt = now;
        long bps = throughput.bytesPerSecond();
        events.publish(new JobProgress(id(), currentProgress, totalProgress, bps, etaSecondsLocked(bps)));
    }

    // ---------------------------------------------------------------- what run() sees

    private final class Context implements JobContext {

        @Override
        public String jobId() {
            return id();
        }

        void initialPausePoint() {
            lock.lock();
            try {
                pausePointLocked();
                throwIfParkingLocked();
            } finally {
                lock.unlock();
            }
        }

        private void throwIfParkingLocked() {
            if (parking) {
                throw new JobParkedException(id());
            }
        }

        @Override
        public void pausePoint() {
            requireJobThread();
            lock.lock();
            try {
                // QEMU ≥ 8.1: sleep at least once; after an early wake-up recompute with the
                // current speed, so wake-ups never let the job exceed its limit.
                long delay;
                do {
                    delay = limiter.account(0);
                    sleepLocked(delay);
                } while (delay > 0 && !isCancelledLocked() && !parking);
                throwIfParkingLocked();
                if (isCancelledLocked()) {
                    throw new JobCancelledException(id());
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public boolean isCancelled() {
            lock.lock();
            try {
                return isCancelledLocked();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public boolean pauseRequested() {
            lock.lock();
            try {
                return pauseCount > 0 || isCancelledLocked();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public long speed() {
            lock.lock();
            try {
                return speed;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void setProgressRemaining(long remaining) {
            lock.lock();
            try {
                totalProgress = currentProgress + remaining;
                version++;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void addProgress(long bytes) {
            lock.lock();
            try {
                currentProgress += bytes;
                throughput.record(bytes);
                version++;
                publishProgressLocked();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void rateLimitAccount(long bytes) {
            limiter.account(bytes);
        }

        @Override
        public long rateLimitDelay() {
            return limiter.account(0);
        }

        @Override
        public ErrorAction handleError(Throwable cause, IoOperation operation) {
            boolean noSpace = ErrorTexts.isNoSpace(cause);
            ErrorAction action = options.onError().decide(noSpace);
            lock.lock();
            try {
                if (!isCancelledLocked()) {
                    events.publish(new BlockJobError(id(), operation, action));
                }
                if (action == ErrorAction.STOP) {
                    // Made a user pause so that resume is accepted; the first error's kind sticks.
                    if (!userPaused) {
                        pauseLocked();
                        userPaused = true;
                    }
                    if (ioStatus == IoStatus.OK) {
                        ioStatus = noSpace ? IoStatus.NOSPACE : IoStatus.FAILED;
                    }
                    version++;
                }
            } finally {
                lock.unlock();
            }
            return action;
        }

        @Override
        public void transitionToReady() {
            lock.lock();
            try {
                transition(JobStatus.READY);
                events.publish(new BlockJobReady(job.type(), id(), totalProgress, currentProgress, speed));
            } finally {
                lock.unlock();
            }
        }

        private void requireJobThread() {
            if (Thread.currentThread() != thread) {
                throw new IllegalStateException("pausePoint() of job '" + id() + "' called outside its thread");
            }
        }
    }
}
