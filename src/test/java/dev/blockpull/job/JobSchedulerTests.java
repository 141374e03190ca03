package dev.blockpull.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.NoSpaceIOException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The scheduler with fake jobs: lifecycle, verbs, events in QEMU's order, errors, speed, drain. */
class JobSchedulerTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final long CHUNK = 512 * 1024;

    private final JobScheduler scheduler = new JobScheduler();
    private final EventRecorder events = new EventRecorder();
    private final List<FakeJob> held = new CopyOnWriteArrayList<>();

    @BeforeEach
    void subscribe() {
        scheduler.events().subscribe(events);
    }

    @AfterEach
    void shutdown() {
        held.forEach(job -> job.gate.open());
        assertThat(scheduler.shutdown(TIMEOUT)).isTrue();
    }

    private JobView awaitView(String id, Predicate<JobView> condition) {
        await().atMost(TIMEOUT).until(() -> condition.test(scheduler.get(id)));
        return scheduler.get(id);
    }

    private JobView awaitStatus(String id, JobStatus status) {
        return awaitView(id, v -> v.status() == status);
    }

    /** Starts a job held at its gate in the middle of its first chunk (busy, no pause point near). */
    private FakeJob startHeld(String id, int chunks, JobOptions options) throws InterruptedException {
        FakeJob job = new FakeJob(chunks, CHUNK);
        job.gate.close();
        held.add(job);
        scheduler.start(job, options);
        assertThat(job.gate.awaitWaiting(TIMEOUT)).isTrue();
        return job;
    }

    /** What another thread reads now, or an AssertionError when it is still waiting after the timeout. */
    private static <T> T fromAnotherThread(String what, Supplier<T> read) {
        try {
            return CompletableFuture.supplyAsync(read).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new AssertionError("Another thread could not read " + what, e);
        }
    }

    /**
     * The job's status as another thread reads it under the job's monitor. That thread waits for
     * the monitor, so a caller that holds it fails here (after the timeout) instead of passing.
     */
    private JobStatus statusUnderTheMonitorFromAnotherThread(String id) {
        ScheduledJob job = (ScheduledJob) scheduler.handle(id).orElseThrow();
        return fromAnotherThread("the status of job '" + id + "' under its monitor", job::status);
    }

    private static BlockIoException eio() {
        return new BlockIoException("read failed", new IOException("Input/output error"));
    }

    private static BlockIoException enospc() {
        return new BlockIoException("write failed", new NoSpaceIOException("No space left on device"));
    }

    // ------------------------------------------------------------ event sequences

    @Test
    void successEmitsQemusStatusSequenceWithCompletedJustBeforeConcluded() {
        FakeJob job = new FakeJob(4, CHUNK);
        scheduler.start(job, JobOptions.of("s1", "top"));

        assertThat(events.awaitTrailEndingWith("s1", "null"))
                .containsExactly(
                        "created", "running", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null");
        assertThat(job.hooks).containsExactly("prepare", "commit", "clean");
    }

    @Test
    void completedEventCarriesLenOffsetAndSpeedAndNoError() {
        scheduler.start(new FakeJob(4, CHUNK), JobOptions.of("s1", "top").withSpeed(1L << 40));
        events.awaitTrailEndingWith("s1", "null");

        assertThat(events.events("s1"))
                .filteredOn(e -> e instanceof JobEvent.BlockJobCompleted)
                .containsExactly(new JobEvent.BlockJobCompleted("stream", "s1", 4 * CHUNK, 4 * CHUNK, 1L << 40, null));
    }

    @Test
    void failureEmitsAbortingAndCompletedWithTheErrnoText() {
        FakeJob job = new FakeJob(4, CHUNK).failChunk(1, eio());
        scheduler.start(job, JobOptions.of("s1", "top"));

        assertThat(events.awaitTrailEndingWith("s1", "null"))
                .containsExactly(
                        "created",
                        "running",
                        "BLOCK_JOB_ERROR",
                        "aborting",
                        "BLOCK_JOB_COMPLETED",
                        "concluded",
                        "null");
        assertThat(events.events("s1"))
                .filteredOn(e -> e instanceof JobEvent.BlockJobCompleted)
                .containsExactly(
                        new JobEvent.BlockJobCompleted("stream", "s1", 4 * CHUNK, CHUNK, 0, "Input/output error"));
        assertThat(job.hooks).containsExactly("abort", "clean");
    }

    @Test
    void theJobsCancelHookRunsWithTheJobUnlocked() throws Exception {
        FakeJob job = startHeld("s1", 3, JobOptions.of("s1", "top"));
        List<JobStatus> seenByAnotherThread = new CopyOnWriteArrayList<>();
        job.onCancel(() -> seenByAnotherThread.add(statusUnderTheMonitorFromAnotherThread("s1")));

        scheduler.cancel("s1");

        assertThat(seenByAnotherThread).containsExactly(JobStatus.RUNNING);
        job.gate.open();
        events.awaitTrailEndingWith("s1", "null");
    }

    @Test
    void cancelOfARunningJobTakesEffectAtItsNextPausePoint() throws Exception {
        FakeJob job = startHeld("s1", 4, JobOptions.of("s1", "top"));

        JobView afterCancel = scheduler.cancel("s1");
        assertThat(afterCancel.status()).isEqualTo(JobStatus.RUNNING);
        job.gate.open();

        assertThat(events.awaitTrailEndingWith("s1", "null"))
                .containsExactly("created", "running", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null");
        assertThat(job.chunksDone).isEqualTo(1);
        assertThat(job.hooks).containsExactly("abort", "clean");
        JobView last = scheduler.get("s1");
        assertThat(last.result()).isEqualTo(JobResult.CANCELLED);
        assertThat(last.error()).isEqualTo("Operation canceled");
    }

    @Test
    void failingPrepareAbortsTheJob() {
        FakeJob job = new FakeJob(2, CHUNK)
                .failPrepare(new dev.blockpull.io.BlockException(BlockErrorKind.CONFLICT, "Operation not permitted"));
        scheduler.start(job, JobOptions.of("s1", "top"));

        assertThat(events.awaitTrailEndingWith("s1", "null"))
                .containsExactly(
                        "created",
                        "running",
                        "waiting",
                        "pending",
                        "aborting",
                        "BLOCK_JOB_COMPLETED",
                        "concluded",
                        "null");
        assertThat(job.hooks).containsExactly("prepare", "abort", "clean");
        assertThat(scheduler.get("s1").error()).isEqualTo("Operation not permitted");
    }

    @Test
    void theJobWordsTheErrorOfItsOwnFailure() {
        FakeJob job = new FakeJob(2, CHUNK)
                .failPrepare(new dev.blockpull.io.BlockException(BlockErrorKind.INVALID_IMAGE, "Bad '/srv/x.qcow2'"))
                .wordErrorsWith(t -> t.getMessage().replace("/srv/", ""));
        scheduler.start(job, JobOptions.of("s1", "top"));

        events.awaitTrailEndingWith("s1", "null");
        assertThat(scheduler.get("s1").error()).isEqualTo("Bad 'x.qcow2'");
    }

    // ------------------------------------------------------------ pause and resume

    @Test
    void pauseIsVisibleAtOnceAndParksTheJobAtItsNextPausePoint() throws Exception {
        FakeJob job = startHeld("s1", 4, JobOptions.of("s1", "top"));

        JobView requested = scheduler.pause("s1");
        assertThat(requested.paused()).isTrue();
        assertThat(requested.status()).isEqualTo(JobStatus.RUNNING);
        assertThat(requested.busy()).isTrue();

        job.gate.release(1);
        JobView parked = awaitStatus("s1", JobStatus.PAUSED);
        assertThat(parked.busy()).isFalse();
        assertThat(parked.currentProgress()).isEqualTo(CHUNK);
        assertThat(job.gate.awaitWaiting(Duration.ZERO)).isFalse();
    }

    @Test
    void resumeLetsAPausedJobRunToSuccess() throws Exception {
        FakeJob job = startHeld("s1", 3, JobOptions.of("s1", "top"));
        scheduler.pause("s1");
        job.gate.open();
        awaitStatus("s1", JobStatus.PAUSED);

        JobView resumed = scheduler.resume("s1");
        assertThat(resumed.paused()).isFalse();

        assertThat(events.awaitTrailEndingWith("s1", "null"))
                .containsExactly(
                        "created",
                        "running",
                        "paused",
                        "running",
                        "waiting",
                        "pending",
                        "BLOCK_JOB_COMPLETED",
                        "concluded",
                        "null");
        assertThat(scheduler.get("s1").currentProgress()).isEqualTo(3 * CHUNK);
    }

    @Test
    void aSecondPauseIsRefused() throws Exception {
        startHeld("s1", 2, JobOptions.of("s1", "top"));
        scheduler.pause("s1");

        assertThatExceptionOfType(JobStateConflictException.class)
                .isThrownBy(() -> scheduler.pause("s1"))
                .withMessage("Job is already paused");
    }

    @Test
    void resumeOfAJobThatWasNotPausedIsRefused() throws Exception {
        startHeld("s1", 2, JobOptions.of("s1", "top"));

        assertThatExceptionOfType(JobStateConflictException.class)
                .isThrownBy(() -> scheduler.resume("s1"))
                .withMessage("Can't resume a job that was not paused");
    }

    @Test
    void blockJobCancelWithoutForceOfAUserPausedJobIsRefused() throws Exception {
        FakeJob job = startHeld("s1", 2, JobOptions.of("s1", "top"));
        scheduler.pause("s1");
        job.gate.open();
        awaitStatus("s1", JobStatus.PAUSED);

        assertThatExceptionOfType(JobStateConflictException.class)
                .isThrownBy(() -> scheduler.blockJobCancel("s1", false))
                .withMessage("The block job for device 's1' is currently paused");
    }

    @Test
    void forcedBlockJobCancelOfAPausedJobCancelsIt() throws Exception {
        FakeJob job = startHeld("s1", 2, JobOptions.of("s1", "top"));
        scheduler.pause("s1");
        job.gate.open();
        awaitStatus("s1", JobStatus.PAUSED);

        scheduler.blockJobCancel("s1", true);

        assertThat(events.awaitTrailEndingWith("s1", "null"))
                .containsExactly(
                        "created",
                        "running",
                        "paused",
                        "running",
                        "aborting",
                        "BLOCK_JOB_CANCELLED",
                        "concluded",
                        "null");
    }

    @Test
    void genericCancelOfAPausedJobResumesAndCancelsIt() throws Exception {
        FakeJob job = startHeld("s1", 2, JobOptions.of("s1", "top"));
        scheduler.pause("s1");
        job.gate.open();
        awaitStatus("s1", JobStatus.PAUSED);

        scheduler.cancel("s1");

        events.awaitTrailEndingWith("s1", "null");
        assertThat(scheduler.get("s1").result()).isEqualTo(JobResult.CANCELLED);
    }

    @Test
    void aPausedJobMakesNoProgress() throws Exception {
        FakeJob job = startHeld("s1", 10, JobOptions.of("s1", "top"));
        scheduler.pause("s1");
        job.gate.open();
        JobView parked = awaitStatus("s1", JobStatus.PAUSED);

        // Nothing can move while parked: the only thread that could is waiting on the job's condition.
        assertThat(scheduler.get("s1").currentProgress()).isEqualTo(parked.currentProgress());
        assertThat(job.chunksDone).isEqualTo(1);
    }

    // ------------------------------------------------------------ auto-finalize / auto-dismiss

    @Test
    void withoutAutoFinalizeTheJobWaitsInPendingUntilFinalize() {
        FakeJob job = new FakeJob(2, CHUNK);
        scheduler.start(job, JobOptions.of("s1", "top").withAutoFinalize(false));

        assertThat(events.awaitTrailEndingWith("s1", "BLOCK_JOB_PENDING"))
                .containsExactly("created", "running", "waiting", "pending", "BLOCK_JOB_PENDING");
        assertThat(scheduler.get("s1").status()).isEqualTo(JobStatus.PENDING);
        assertThat(job.hooks).isEmpty();
        assertThat(events.events("s1")).contains(new JobEvent.BlockJobPending("stream", "s1"));

        JobView finalized = scheduler.finalizeJob("s1");

        assertThat(finalized.status()).isEqualTo(JobStatus.NULL);
        assertThat(finalized.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(job.hooks).containsExactly("prepare", "commit", "clean");
        assertThat(events.awaitTrailEndingWith("s1", "null"))
                .endsWith("BLOCK_JOB_PENDING", "BLOCK_JOB_COMPLETED", "concluded", "null");
    }

    @Test
    void cancelInPendingAbortsWithoutPrepare() {
        FakeJob job = new FakeJob(2, CHUNK);
        scheduler.start(job, JobOptions.of("s1", "top").withAutoFinalize(false));
        events.awaitTrailEndingWith("s1", "BLOCK_JOB_PENDING");

        scheduler.cancel("s1");

        assertThat(events.awaitTrailEndingWith("s1", "null"))
                .endsWith("pending", "BLOCK_JOB_PENDING", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null");
        assertThat(job.hooks).containsExactly("abort", "clean");
    }

    @Test
    void withoutAutoDismissTheJobStaysConcludedUntilDismiss() {
        scheduler.start(
                new FakeJob(2, CHUNK).failChunk(0, eio()),
                JobOptions.of("s1", "top").withAutoDismiss(false));

        JobView concluded = awaitStatus("s1", JobStatus.CONCLUDED);
        assertThat(concluded.error()).isEqualTo("Input/output error");
        assertThat(concluded.result()).isEqualTo(JobResult.FAILED);
        assertThat(scheduler.list()).extracting(JobView::status).containsExactly(JobStatus.CONCLUDED);

        JobView dismissed = scheduler.dismiss("s1");

        assertThat(dismissed.status()).isEqualTo(JobStatus.NULL);
        assertThat(events.awaitTrailEndingWith("s1", "null")).endsWith("concluded", "null");
    }

    @Test
    void anAutoDismissedJobStaysReadableWithItsResult() {
        scheduler.start(new FakeJob(2, CHUNK), JobOptions.of("s1", "top"));
        events.awaitTrailEndingWith("s1", "null");

        JobView record = scheduler.get("s1");
        assertThat(record.status()).isEqualTo(JobStatus.NULL);
        assertThat(record.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(record.error()).isNull();
        assertThat(record.finishedAt()).isNotNull();
        assertThat(record.currentProgress()).isEqualTo(record.totalProgress()).isEqualTo(2 * CHUNK);
    }

    // ------------------------------------------------------------ on-error

    @Test
    void onErrorStopPausesTheJobWithIoStatusFailedAndResumeRetriesTheChunk() {
        FakeJob job = new FakeJob(3, CHUNK).failChunk(1, eio());
        scheduler.start(job, JobOptions.of("s1", "top").withOnError(OnErrorPolicy.STOP));

        JobView stopped = awaitStatus("s1", JobStatus.PAUSED);
        assertThat(stopped.ioStatus()).isEqualTo(IoStatus.FAILED);
        assertThat(stopped.currentProgress()).isEqualTo(CHUNK);
        assertThat(events.trail("s1")).containsExactly("created", "running", "BLOCK_JOB_ERROR", "paused");
        assertThat(events.events("s1")).contains(new JobEvent.BlockJobError("s1", IoOperation.READ, ErrorAction.STOP));

        JobView resumed = scheduler.resume("s1");
        assertThat(resumed.ioStatus()).isEqualTo(IoStatus.OK);

        events.awaitTrailEndingWith("s1", "null");
        JobView done = scheduler.get("s1");
        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(done.currentProgress()).isEqualTo(3 * CHUNK);
    }

    @Test
    void onErrorEnospcStopsOnNoSpaceWithIoStatusNospace() {
        scheduler.start(
                new FakeJob(3, CHUNK).failChunk(1, enospc()),
                JobOptions.of("s1", "top").withOnError(OnErrorPolicy.ENOSPC));

        JobView stopped = awaitStatus("s1", JobStatus.PAUSED);
        assertThat(stopped.ioStatus()).isEqualTo(IoStatus.NOSPACE);
        assertThat(events.events("s1")).contains(new JobEvent.BlockJobError("s1", IoOperation.READ, ErrorAction.STOP));
    }

    @Test
    void onErrorEnospcReportsOtherErrors() {
        scheduler.start(
                new FakeJob(3, CHUNK).failChunk(1, eio()),
                JobOptions.of("s1", "top").withOnError(OnErrorPolicy.ENOSPC));

        events.awaitTrailEndingWith("s1", "null");
        assertThat(scheduler.get("s1").result()).isEqualTo(JobResult.FAILED);
        assertThat(events.events("s1"))
                .contains(new JobEvent.BlockJobError("s1", IoOperation.READ, ErrorAction.REPORT));
    }

    @Test
    void onErrorIgnoreRunsToTheEndAndThenFails() {
        FakeJob job = new FakeJob(3, CHUNK).failChunk(0, eio()).failChunk(2, eio());
        scheduler.start(job, JobOptions.of("s1", "top").withOnError(OnErrorPolicy.IGNORE));

        events.awaitTrailEndingWith("s1", "null");
        JobView done = scheduler.get("s1");
        assertThat(done.result()).isEqualTo(JobResult.FAILED);
        assertThat(done.currentProgress()).isEqualTo(3 * CHUNK);
        assertThat(done.error()).isEqualTo("Input/output error");
        assertThat(events.events("s1"))
                .filteredOn(e -> e instanceof JobEvent.BlockJobError)
                .containsExactly(
                        new JobEvent.BlockJobError("s1", IoOperation.READ, ErrorAction.IGNORE),
                        new JobEvent.BlockJobError("s1", IoOperation.READ, ErrorAction.IGNORE));
        assertThat(job.hooks).containsExactly("abort", "clean");
    }

    @Test
    void aStopThatHitsAnAlreadyUserPausedJobKeepsASingleUserPause() throws Exception {
        FakeJob job = new FakeJob(3, CHUNK).failChunk(0, eio());
        job.gate.close();
        held.add(job);
        scheduler.start(job, JobOptions.of("s1", "top").withOnError(OnErrorPolicy.STOP));
        assertThat(job.gate.awaitWaiting(TIMEOUT)).isTrue();
        scheduler.pause("s1");
        job.gate.open();

        awaitStatus("s1", JobStatus.PAUSED);
        scheduler.resume("s1");

        events.awaitTrailEndingWith("s1", "null");
        assertThat(scheduler.get("s1").result()).isEqualTo(JobResult.COMPLETED);
    }

    // ------------------------------------------------------------ verbs refused, ids

    @Test
    void verbsOutsideTheTableAreRefusedWithQemusMessage() throws Exception {
        startHeld("s1", 2, JobOptions.of("s1", "top"));

        assertThatExceptionOfType(JobVerbRefusedException.class)
                .isThrownBy(() -> scheduler.finalizeJob("s1"))
                .withMessage("Job 's1' in state 'running' cannot accept command verb 'finalize'");
        assertThatExceptionOfType(JobVerbRefusedException.class)
                .isThrownBy(() -> scheduler.complete("s1"))
                .withMessage("Job 's1' in state 'running' cannot accept command verb 'complete'");
        assertThatExceptionOfType(JobVerbRefusedException.class)
                .isThrownBy(() -> scheduler.dismiss("s1"))
                .withMessage("Job 's1' in state 'running' cannot accept command verb 'dismiss'");
    }

    @Test
    void anUnknownJobIsNotFound() {
        assertThatExceptionOfType(JobNotFoundException.class)
                .isThrownBy(() -> scheduler.pause("nope"))
                .withMessage("Block job 'nope' not found")
                .satisfies(e -> assertThat(e.genericMessage()).isEqualTo("Job not found"))
                .satisfies(e -> assertThat(e.kind()).isEqualTo(BlockErrorKind.NOT_FOUND));
        assertThat(scheduler.find("nope")).isEmpty();
    }

    @Test
    void aLiveJobsIdIsInUse() throws Exception {
        startHeld("s1", 2, JobOptions.of("s1", "top"));

        assertThatExceptionOfType(JobIdInUseException.class)
                .isThrownBy(() -> scheduler.start(new FakeJob(1, CHUNK), JobOptions.of("s1", "other")))
                .withMessage("Job ID 's1' already in use")
                .satisfies(e -> assertThat(e.kind()).isEqualTo(BlockErrorKind.CONFLICT));
    }

    @Test
    void aMalformedIdIsRefusedBeforeAnythingIsEmitted() {
        assertThatExceptionOfType(InvalidJobIdException.class)
                .isThrownBy(() -> scheduler.start(new FakeJob(1, CHUNK), JobOptions.of("#block1", "top")))
                .withMessage("Invalid job ID '#block1'");
        assertThat(scheduler.events().lastSequence()).isZero();
    }

    @Test
    void aNegativeSpeedAtCreationEmitsCreatedThenNullAndLeavesNoJob() {
        assertThatExceptionOfType(InvalidSpeedException.class)
                .isThrownBy(() -> scheduler.create(
                        new FakeJob(1, CHUNK), JobOptions.of("s1", "top").withSpeed(-1)))
                .withMessage("Parameter 'speed' expects a non-negative value");

        assertThat(events.awaitTrailEndingWith("s1", "null")).containsExactly("created", "null");
        assertThat(scheduler.find("s1")).isEmpty();
        assertThat(scheduler.list()).isEmpty();
    }

    @Test
    void aDismissedJobsIdIsFreeAndTheNewJobReplacesTheHistoryRecord() throws Exception {
        scheduler.start(new FakeJob(1, CHUNK).failChunk(0, eio()), JobOptions.of("s1", "top"));
        events.awaitTrailEndingWith("s1", "null");
        assertThat(scheduler.get("s1").result()).isEqualTo(JobResult.FAILED);

        startHeld("s1", 2, JobOptions.of("s1", "top"));

        assertThat(scheduler.get("s1").status()).isEqualTo(JobStatus.RUNNING);
        assertThat(scheduler.list()).extracting(JobView::id).containsExactly("s1");
        assertThat(scheduler.history().get("s1")).isEmpty();
    }

    @Test
    void verbsOnAJobOnlyInTheHistoryAreRefusedAsStateNull() {
        scheduler.start(new FakeJob(1, CHUNK), JobOptions.of("s1", "top"));
        events.awaitTrailEndingWith("s1", "null");

        assertThatExceptionOfType(JobVerbRefusedException.class)
                .isThrownBy(() -> scheduler.cancel("s1"))
                .withMessage("Job 's1' in state 'null' cannot accept command verb 'cancel'");
    }

    @Test
    void cancelOfACreatedJobConcludesItWithoutCompletionEventsOrHistory() {
        FakeJob job = new FakeJob(1, CHUNK);
        JobHandle handle = scheduler.create(job, JobOptions.of("s1", "top"));

        scheduler.cancel("s1");

        assertThat(events.awaitTrailEndingWith("s1", "null"))
                .containsExactly("created", "aborting", "concluded", "null");
        assertThat(job.hooks).containsExactly("abort", "clean");
        assertThat(scheduler.find("s1")).isEmpty();
        assertThatExceptionOfType(JobStateConflictException.class).isThrownBy(handle::start);
    }

    @Test
    void earlyFailOfACreatedJobEmitsNullAndFreesTheId() {
        FakeJob job = new FakeJob(1, CHUNK);
        JobHandle handle = scheduler.create(job, JobOptions.of("s1", "top"));

        handle.earlyFail();

        assertThat(events.awaitTrailEndingWith("s1", "null")).containsExactly("created", "null");
        assertThat(job.hooks).isEmpty();
        assertThat(scheduler.find("s1")).isEmpty();
    }

    // ------------------------------------------------------------ speed

    @Test
    void setSpeedIsVisibleAtOnceAndNegativeIsRefused() throws Exception {
        startHeld("s1", 2, JobOptions.of("s1", "top"));

        assertThat(scheduler.setSpeed("s1", 4096).speed()).isEqualTo(4096);
        assertThat(scheduler.get("s1").speed()).isEqualTo(4096);
        assertThatExceptionOfType(InvalidSpeedException.class)
                .isThrownBy(() -> scheduler.setSpeed("s1", -5))
                .withMessage("Parameter 'speed' expects a non-negative value");
    }

    @Test
    void aThrottledJobSleepsNotBusyAfterItsFirstChunk() {
        scheduler.start(new FakeJob(3, CHUNK), JobOptions.of("s1", "top").withSpeed(1024));

        JobView sleeping = awaitView("s1", v -> v.currentProgress() == CHUNK && !v.busy());
        assertThat(sleeping.status()).isEqualTo(JobStatus.RUNNING);
        assertThat(sleeping.speed()).isEqualTo(1024);
    }

    @Test
    void settingSpeedZeroReleasesAThrottledJobAtOnce() {
        scheduler.start(new FakeJob(3, CHUNK), JobOptions.of("s1", "top").withSpeed(1024));
        awaitView("s1", v -> v.currentProgress() == CHUNK && !v.busy());

        scheduler.setSpeed("s1", 0);

        events.awaitTrailEndingWith("s1", "null");
        assertThat(scheduler.get("s1").result()).isEqualTo(JobResult.COMPLETED);
    }

    @Test
    void pausingASleepingJobWakesItToItsPausePointAndResumeDoesNotSkipTheDelay() {
        scheduler.start(new FakeJob(3, CHUNK), JobOptions.of("s1", "top").withSpeed(1024));
        awaitView("s1", v -> v.currentProgress() == CHUNK && !v.busy());

        scheduler.pause("s1");
        awaitStatus("s1", JobStatus.PAUSED);
        scheduler.resume("s1");

        // Back on the rate-limit timer with the rest of its ~514 s, not on to the next chunk.
        JobView again = awaitView("s1", v -> v.status() == JobStatus.RUNNING && !v.busy());
        assertThat(again.currentProgress()).isEqualTo(CHUNK);
        assertThat(events.trail("s1")).containsExactly("created", "running", "paused", "running");
    }

    @Test
    void cancelWakesASleepingJob() {
        scheduler.start(new FakeJob(3, CHUNK), JobOptions.of("s1", "top").withSpeed(1024));
        awaitView("s1", v -> v.currentProgress() == CHUNK && !v.busy());

        scheduler.cancel("s1");

        events.awaitTrailEndingWith("s1", "null");
        assertThat(scheduler.get("s1").result()).isEqualTo(JobResult.CANCELLED);
    }

    // ------------------------------------------------------------ ready / standby / complete

    @Test
    void aReadyJobPausesToStandbyAndCompletesOnComplete() {
        ReadyJob job = new ReadyJob();
        scheduler.start(job, JobOptions.of("m1", "top"));
        awaitStatus("m1", JobStatus.READY);
        assertThat(scheduler.get("m1").ready()).isTrue();

        scheduler.pause("m1");
        awaitStatus("m1", JobStatus.STANDBY);
        scheduler.resume("m1");
        awaitStatus("m1", JobStatus.READY);
        scheduler.complete("m1");

        assertThat(events.awaitTrailEndingWith("m1", "null"))
                .containsExactly(
                        "created",
                        "running",
                        "ready",
                        "BLOCK_JOB_READY",
                        "standby",
                        "ready",
                        "waiting",
                        "pending",
                        "BLOCK_JOB_COMPLETED",
                        "concluded",
                        "null");
    }

    @Test
    void completeOfAJobThatCannotCompleteIsRefused() {
        scheduler.start(new ReadyJob(false), JobOptions.of("m1", "top"));
        awaitStatus("m1", JobStatus.READY);

        assertThatExceptionOfType(JobStateConflictException.class)
                .isThrownBy(() -> scheduler.complete("m1"))
                .withMessage("The active block job 'm1' cannot be completed");
    }

    /** A mirror-like job: ready at once, runs until completed. */
    private static final class ReadyJob implements Job {
        private final boolean completable;
        private volatile boolean completed;

        ReadyJob() {
            this(true);
        }

        ReadyJob(boolean completable) {
            this.completable = completable;
        }

        @Override
        public String type() {
            return "mirror";
        }

        @Override
        public void run(JobContext context) {
            context.transitionToReady();
            while (!completed) {
                context.pausePoint();
                Thread.onSpinWait();
            }
        }

        @Override
        public boolean supportsComplete() {
            return completable;
        }

        @Override
        public void complete() {
            completed = true;
        }
    }

    // ------------------------------------------------------------ drain

    @Test
    void drainWaitsUntilEveryJobStandsAtAPausePoint() throws Exception {
        FakeJob held = startHeld("a", 3, JobOptions.of("a", "top"));
        scheduler.start(new FakeJob(3, CHUNK), JobOptions.of("b", "other").withSpeed(1024));
        awaitView("b", v -> !v.busy());

        try (DrainSection drain = scheduler.pauseAllAtPausePoints()) {
            assertThat(drain.awaitQuiescent(Duration.ofMillis(50))).isFalse();
            assertThat(drain.notQuiescent()).containsExactly("a");

            held.gate.open();

            assertThat(drain.awaitQuiescent(TIMEOUT)).isTrue();
            assertThat(scheduler.get("a").status()).isEqualTo(JobStatus.PAUSED);
            assertThat(scheduler.get("a").paused()).isTrue();
        }
        awaitView("a", v -> v.status() != JobStatus.PAUSED);
    }

    @Test
    void anInternalPauseIsNotAUserPause() throws Exception {
        FakeJob job = startHeld("a", 3, JobOptions.of("a", "top"));
        try (DrainSection drain = scheduler.pauseAllAtPausePoints()) {
            job.gate.open();
            assertThat(drain.awaitQuiescent(TIMEOUT)).isTrue();
            assertThatExceptionOfType(JobStateConflictException.class)
                    .isThrownBy(() -> scheduler.resume("a"))
                    .withMessage("Can't resume a job that was not paused");
        }
        events.awaitTrailEndingWith("a", "null");
    }

    @Test
    void aUserPauseOutlivesTheEndOfADrain() throws Exception {
        FakeJob job = startHeld("a", 3, JobOptions.of("a", "top"));
        scheduler.pause("a");
        DrainSection drain = scheduler.pauseAllAtPausePoints();
        job.gate.open();
        assertThat(drain.awaitQuiescent(TIMEOUT)).isTrue();

        drain.close();

        assertThat(scheduler.get("a").status()).isEqualTo(JobStatus.PAUSED);
        scheduler.resume("a");
        events.awaitTrailEndingWith("a", "null");
    }

    @Test
    void quiescenceListenersHearAJobParkAndMayAskItBack() throws Exception {
        FakeJob job = new FakeJob(3, CHUNK);
        job.gate.close();
        held.add(job);
        JobHandle handle = scheduler.create(job, JobOptions.of("a", "top"));
        CountDownLatch heard = new CountDownLatch(1);
        List<Boolean> answers = new CopyOnWriteArrayList<>();
        handle.addQuiescenceListener(() -> {
            answers.add(handle.isQuiescent());
            heard.countDown();
        });
        handle.start();
        assertThat(job.gate.awaitWaiting(TIMEOUT)).isTrue();

        try (DrainSection drain = DrainSection.begin(List.of(handle))) {
            job.gate.open();
            assertThat(heard.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(drain.awaitQuiescent(TIMEOUT)).isTrue();
        }
        assertThat(answers.get(0)).isTrue();
    }

    @Test
    void quiescenceListenersRunWithTheJobUnlockedOnceItIsParked() throws Exception {
        FakeJob job = startHeld("a", 3, JobOptions.of("a", "top"));
        CountDownLatch heard = new CountDownLatch(1);
        List<JobStatus> seenByAnotherThread = new CopyOnWriteArrayList<>();
        scheduler.handle("a").orElseThrow().addQuiescenceListener(() -> {
            if (heard.getCount() > 0) {
                seenByAnotherThread.add(statusUnderTheMonitorFromAnotherThread("a"));
                heard.countDown();
            }
        });

        try (DrainSection drain = scheduler.pauseAllAtPausePoints()) {
            job.gate.open();
            assertThat(heard.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        }
        assertThat(seenByAnotherThread).containsExactly(JobStatus.PAUSED);
    }

    // ------------------------------------------------------------ subscribers, views, shutdown

    @Test
    void aSlowSubscriberDoesNotSlowAJob() {
        CountDownLatch never = new CountDownLatch(1);
        scheduler.events().subscribe(event -> {
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });

        scheduler.start(new FakeJob(200, 4096), JobOptions.of("s1", "top"));

        awaitStatus("s1", JobStatus.NULL);
        never.countDown();
    }

    @Test
    void theVersionGrowsWithEveryChange() throws Exception {
        startHeld("s1", 3, JobOptions.of("s1", "top"));
        long before = scheduler.get("s1").version();

        scheduler.setSpeed("s1", 100);
        long afterSpeed = scheduler.get("s1").version();
        scheduler.pause("s1");

        assertThat(afterSpeed).isGreaterThan(before);
        assertThat(scheduler.get("s1").version()).isGreaterThan(afterSpeed);
    }

    @Test
    void aViewCarriesTheJobsOptionsAndProgress() throws Exception {
        startHeld("s1", 4, JobOptions.of("s1", "top").withAutoDismiss(false));

        JobView view = scheduler.get("s1");
        assertThat(view.type()).isEqualTo("stream");
        assertThat(view.device()).isEqualTo("top");
        assertThat(view.totalProgress()).isEqualTo(4 * CHUNK);
        assertThat(view.currentProgress()).isZero();
        assertThat(view.busy()).isTrue();
        assertThat(view.ioStatus()).isEqualTo(IoStatus.OK);
        assertThat(view.ready()).isFalse();
        assertThat(view.autoFinalize()).isTrue();
        assertThat(view.autoDismiss()).isFalse();
        assertThat(view.result()).isNull();
        assertThat(view.finishedAt()).isNull();
    }

    @Test
    void listIsOrderedByCreation() throws Exception {
        startHeld("b", 2, JobOptions.of("b", "top"));
        startHeld("a", 2, JobOptions.of("a", "top"));
        startHeld("c", 2, JobOptions.of("c", "top"));

        List<JobView> all = scheduler.list();

        assertThat(all).extracting(JobView::createdAt).isSorted();
        assertThat(all).extracting(JobView::id).containsExactlyInAnyOrder("a", "b", "c");
    }

    @Test
    void shutdownPausesAndStopsEveryJobAndLeavesNoJobThread() throws Exception {
        FakeJob paused = startHeld("paused", 3, JobOptions.of("paused", "n1"));
        scheduler.pause("paused");
        paused.gate.open();
        awaitStatus("paused", JobStatus.PAUSED);
        scheduler.start(new FakeJob(3, CHUNK), JobOptions.of("sleeping", "n2").withSpeed(1024));
        scheduler.start(new FakeJob(Integer.MAX_VALUE, 1), JobOptions.of("busy", "n3"));
        scheduler.start(new FakeJob(1, CHUNK), JobOptions.of("pending", "n4").withAutoFinalize(false));
        awaitStatus("pending", JobStatus.PENDING);
        awaitView("sleeping", v -> v.currentProgress() == CHUNK && !v.busy());

        assertThat(scheduler.shutdown(TIMEOUT)).isTrue();

        List<String> ours = List.of("paused", "sleeping", "busy", "pending");
        assertThat(Thread.getAllStackTraces().keySet())
                .extracting(Thread::getName)
                .noneMatch(name -> ours.stream().anyMatch(id -> name.equals(ScheduledJob.THREAD_PREFIX + id)));
        assertThat(scheduler.list()).extracting(JobView::result).containsOnly(JobResult.CANCELLED);
        assertThatExceptionOfType(JobStateConflictException.class)
                .isThrownBy(() -> scheduler.start(new FakeJob(1, CHUNK), JobOptions.of("late", "n5")));
    }

    // ------------------------------------------------------------ restarts

    @Test
    void parkStopsEveryJobWithoutConcludingItAndReleasesWhatItHolds() throws Exception {
        FakeJob paused = startHeld("paused", 3, JobOptions.of("paused", "n1"));
        scheduler.pause("paused");
        paused.gate.open();
        awaitStatus("paused", JobStatus.PAUSED);
        FakeJob sleeping = new FakeJob(3, CHUNK);
        scheduler.start(sleeping, JobOptions.of("sleeping", "n2").withSpeed(1024));
        FakeJob busy = new FakeJob(Integer.MAX_VALUE, 1);
        scheduler.start(busy, JobOptions.of("busy", "n3"));
        FakeJob pending = new FakeJob(1, CHUNK);
        scheduler.start(pending, JobOptions.of("pending", "n4").withAutoFinalize(false));
        awaitStatus("pending", JobStatus.PENDING);
        awaitView("sleeping", v -> v.currentProgress() == CHUNK && !v.busy());

        assertThat(scheduler.park(TIMEOUT)).isTrue();

        assertThat(Thread.getAllStackTraces().keySet())
                .extracting(Thread::getName)
                .noneMatch(name -> name.startsWith(ScheduledJob.THREAD_PREFIX));
        assertThat(List.of(paused, sleeping, busy, pending))
                .allSatisfy(j -> assertThat(j.hooks).containsExactly("clean"));
        assertThat(scheduler.get("pending").status()).isEqualTo(JobStatus.PENDING);
        assertThat(scheduler.list()).extracting(JobView::result).containsOnlyNulls();
        assertThat(events.events("busy"))
                .noneMatch(e -> e instanceof JobEvent.BlockJobCancelled || e instanceof JobEvent.BlockJobCompleted);
        assertThat(scheduler.get("paused").userPaused()).isTrue();
        assertThat(scheduler.get("busy").userPaused()).isFalse();
    }

    @Test
    void aResumedJobKeepsItsCreationTimeAndCountsTheRestart() {
        Instant created = Instant.parse("2026-01-01T00:00:00Z");
        Instant resumed = Instant.parse("2026-01-01T01:00:00Z");
        scheduler
                .create(
                        new FakeJob(2, CHUNK),
                        JobOptions.of("s1", "top"),
                        new JobResumption(created, 2, resumed, false))
                .start();

        JobView done = awaitStatus("s1", JobStatus.NULL);

        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(done.createdAt()).isEqualTo(created);
        assertThat(done.restarts()).isEqualTo(2);
        assertThat(done.resumedAt()).isEqualTo(resumed);
    }

    @Test
    void aJobResumedPausedParksAtItsFirstPausePointAndResumeLetsItFinish() {
        FakeJob job = new FakeJob(2, CHUNK);
        scheduler
                .create(job, JobOptions.of("s1", "top"), new JobResumption(Instant.EPOCH, 1, Instant.EPOCH, true))
                .start();

        assertThat(events.awaitTrailEndingWith("s1", "paused")).containsExactly("created", "running", "paused");
        assertThat(job.chunksDone).isZero();
        scheduler.resume("s1");

        assertThat(awaitStatus("s1", JobStatus.NULL).result()).isEqualTo(JobResult.COMPLETED);
    }
}
