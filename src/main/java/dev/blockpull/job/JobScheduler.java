package dev.blockpull.job;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs jobs, each on its own platform thread, and answers the verbs of QMP's job-* and
 * block-job-* commands from any thread. Owns the event bus and the history of dismissed jobs.
 * <p>
 * Job ids are unique among live jobs; a dismissed job's id is free again and a new job with it
 * replaces the history record. Verbs on a dismissed job still in the history are refused by the
 * verb table (status {@code null}, 409), not "not found": its resource is still readable.
 */
public final class JobScheduler implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(JobScheduler.class);
    private static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

    private final JobSchedulerSettings settings;
    private final JobEventBus events;
    private final JobHistory history;
    private final Map<String, ScheduledJob> live = new ConcurrentHashMap<>();
    /** Guards id check-and-insert, retirement and {@link #closed}; taken after a job's own lock. */
    private final Object registry = new Object();

    private boolean closed;
    /** {@link #park} ran: the jobs left in {@link #live} are parked, not to be cancelled. */
    private boolean parked;

    public JobScheduler() {
        this(JobSchedulerSettings.defaults());
    }

    public JobScheduler(JobSchedulerSettings settings) {
        this.settings = settings;
        this.events = new JobEventBus(settings.eventRingSize(), settings.subscriberQueueCapacity(), settings.clock());
        this.history = new JobHistory(settings.historySize(), settings.historyMaxAge(), settings.clock());
    }

    public JobEventBus events() {
        return events;
    }

    public JobHistory history() {
        return history;
    }

    // ---------------------------------------------------------------- creation

    /**
     * QEMU's job_create + the speed of block_job_create: checks the id (invalid, in use), emits
     * {@code created}, then applies the speed (negative: {@code null} follows and the job is gone).
     * The caller finishes its set-up and calls {@link JobHandle#start()} or
     * {@link JobHandle#earlyFail()}.
     */
    public JobHandle create(Job job, JobOptions options) {
        return create(job, options, null);
    }

    /**
     * {@link #create(Job, JobOptions)} for a job recorded before a restart: it keeps its creation
     * time, counts the restart, and with {@link JobResumption#paused()} parks at its first pause
     * point as a user-paused job.
     */
    public JobHandle create(Job job, JobOptions options, @Nullable JobResumption resumption) {
        synchronized (registry) {
            checkFreeId(options.id());
            ScheduledJob created = new ScheduledJob(job, options, events, settings, this::retire, resumption);
            created.markCreated();
            if (options.speed() < 0) {
                created.earlyFail();
                throw new InvalidSpeedException();
            }
            created.applyInitialSpeed(options.speed());
            live.put(options.id(), created);
            history.remove(options.id());
            return created;
        }
    }

    /**
     * The checks of {@link #create} without creating anything, for a dry run: shut down, invalid
     * id, id in use, negative speed, with the same errors.
     */
    public void checkCreatable(String id, long speed) {
        synchronized (registry) {
            checkFreeId(id);
        }
        if (speed < 0) {
            throw new InvalidSpeedException();
        }
    }

    /** Under {@link #registry}. */
    private void checkFreeId(String id) {
        if (closed) {
            throw new JobStateConflictException("The job scheduler is shut down");
        }
        JobIds.check(id);
        if (live.containsKey(id)) {
            throw new JobIdInUseException(id);
        }
    }

    /** {@link #create} then {@link JobHandle#start()}, for jobs with nothing to set up in between. */
    public JobHandle start(Job job, JobOptions options) {
        JobHandle handle = create(job, options);
        handle.start();
        return handle;
    }

    /** History first: {@link #find} reads without the lock, and must find the job in one place or the other. */
    private void retire(ScheduledJob job, JobView finalView, boolean started) {
        synchronized (registry) {
            if (started) {
                history.add(finalView);
            }
            live.remove(job.id(), job);
        }
    }

    // ---------------------------------------------------------------- queries

    /** The live job, else its history record. */
    public Optional<JobView> find(String id) {
        ScheduledJob job = live.get(id);
        if (job != null) {
            return Optional.of(job.view());
        }
        return history.get(id);
    }

    /** @throws JobNotFoundException when neither live nor in the history */
    public JobView get(String id) {
        return find(id).orElseThrow(() -> new JobNotFoundException(id));
    }

    /** Live jobs and the history, ordered by creation time, then id. */
    public List<JobView> list() {
        Map<String, JobView> byId = new LinkedHashMap<>();
        // Live first, then history: a job dismissed in between shows up twice, never not at all.
        for (ScheduledJob job : live.values()) {
            byId.put(job.id(), job.view());
        }
        for (JobView finished : history.list()) {
            byId.merge(finished.id(), finished, (a, b) -> a.version() >= b.version() ? a : b);
        }
        List<JobView> views = new ArrayList<>(byId.values());
        views.sort(Comparator.comparing(JobView::createdAt).thenComparing(JobView::id));
        return views;
    }

    /** The handle of a live job, for the floor that created it (drain adapters). */
    public Optional<JobHandle> handle(String id) {
        return Optional.ofNullable(live.get(id));
    }

    // ---------------------------------------------------------------- verbs

    /** job-pause / block-job-pause. */
    public JobView pause(String id) {
        return liveJob(id, JobVerb.PAUSE).userPause();
    }

    /** job-resume / block-job-resume; also resets ioStatus after an error stop. */
    public JobView resume(String id) {
        return liveJob(id, JobVerb.RESUME).userResume();
    }

    /** job-cancel: always forced (QEMU's job-cancel has no force argument). */
    public JobView cancel(String id) {
        return liveJob(id, JobVerb.CANCEL).cancel(true, false);
    }

    /** block-job-cancel: without {@code force} refused for a user-paused job. */
    public JobView blockJobCancel(String id, boolean force) {
        return liveJob(id, JobVerb.CANCEL).cancel(force, true);
    }

    /** block-job-set-speed. */
    public JobView setSpeed(String id, long bytesPerSecond) {
        return liveJob(id, JobVerb.SET_SPEED).setSpeed(bytesPerSecond);
    }

    /** job-complete. */
    public JobView complete(String id) {
        return liveJob(id, JobVerb.COMPLETE).complete();
    }

    /** job-finalize: runs prepare and the rest of completion on the calling thread. */
    public JobView finalizeJob(String id) {
        return liveJob(id, JobVerb.FINALIZE).finalizeJob();
    }

    /** job-dismiss: the job leaves the live set and stays readable in the history. */
    public JobView dismiss(String id) {
        return liveJob(id, JobVerb.DISMISS).dismiss();
    }

    private ScheduledJob liveJob(String id, JobVerb verb) {
        ScheduledJob job = live.get(id);
        if (job != null) {
            return job;
        }
        if (history.get(id).isPresent()) {
            throw new JobVerbRefusedException(id, JobStatus.NULL, verb);
        }
        throw new JobNotFoundException(id);
    }

    // ---------------------------------------------------------------- drain and shutdown

    /**
     * Internal pause of every live job (drain-all): each is asked to stop at its next pause point.
     * Wait with {@link DrainSection#awaitQuiescent}, end with {@link DrainSection#close()}.
     */
    public DrainSection pauseAllAtPausePoints() {
        return DrainSection.begin(new ArrayList<>(live.values()));
    }

    /**
     * Graceful stop: no new jobs; every job is paused at a pause point (so no job I/O is in
     * flight), then cancelled as QEMU does at exit (job_cancel_sync_all), which runs its abort and
     * clean hooks and leaves its chain as before the job; finally the job threads are joined.
     *
     * @return true if every job thread ended within the timeout
     */
    public boolean shutdown(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (registry) {
            if (parked) {
                return true;
            }
            closed = true;
        }
        List<ScheduledJob> jobs = new ArrayList<>(live.values());
        try (DrainSection drain = DrainSection.begin(jobs)) {
            awaitPausePoints(drain, timeout, "cancelling");
            for (ScheduledJob job : jobs) {
                job.cancelForShutdown(remaining(deadline));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        boolean stopped;
        try {
            stopped = joinAll(jobs, deadline, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = false;
        }
        events.close();
        return stopped;
    }

    /**
     * Stop for a restart: no new jobs; every job is paused at a pause point, then parked (it
     * releases what it holds without concluding: its chain stays valid, its copies stay in the
     * top, and its status is what the caller recorded); a job in completion finishes it first.
     * Finally the job threads are joined.
     *
     * @return true if every job thread ended within the timeout
     */
    public boolean park(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (registry) {
            closed = true;
            parked = true;
        }
        List<ScheduledJob> jobs = new ArrayList<>(live.values());
        try (DrainSection drain = DrainSection.begin(jobs)) {
            awaitPausePoints(drain, timeout, "parking them");
            for (ScheduledJob job : jobs) {
                job.park(remaining(deadline));
            }
            boolean stopped = joinAll(jobs, deadline, timeout);
            events.close();
            return stopped;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A job that does not get there within the timeout is stopped all the same ({@code anyway}). */
    private static void awaitPausePoints(DrainSection drain, Duration timeout, String anyway)
            throws InterruptedException {
        if (!drain.awaitQuiescent(timeout)) {
            log.warn("Jobs {} did not reach a pause point within {}; {} anyway", drain.notQuiescent(), timeout, anyway);
        }
    }

    private static long remaining(long deadline) {
        return Math.max(deadline - System.nanoTime(), 0);
    }

    private static boolean joinAll(List<ScheduledJob> jobs, long deadline, Duration timeout)
            throws InterruptedException {
        boolean stopped = true;
        for (ScheduledJob job : jobs) {
            if (!job.joinThread(deadline - System.nanoTime())) {
                log.warn("Job thread {}{} did not end within {}", ScheduledJob.THREAD_PREFIX, job.id(), timeout);
                stopped = false;
            }
        }
        return stopped;
    }

    /** {@link #shutdown} with 30 s. */
    @Override
    public void close() {
        shutdown(DEFAULT_SHUTDOWN_TIMEOUT);
    }
}
