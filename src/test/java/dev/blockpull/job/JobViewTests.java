package dev.blockpull.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Views of a job while a data-path thread holds its monitor: a request thread does not wait for
 * a holder that the scheduler keeps off the CPU, and never sees less than an event told.
 */
class JobViewTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final long CHUNK = 512 * 1024;

    /** Set: the job's thread stops in its next progress update, with the job's monitor held. */
    private volatile boolean stallProgress;

    private final CountDownLatch stalled = new CountDownLatch(1);
    private final CountDownLatch goOn = new CountDownLatch(1);
    private final JobScheduler scheduler =
            new JobScheduler(JobSchedulerSettings.defaults().withClocks(Clock.systemUTC(), this::nanoTime));

    /** The scheduler's monotonic clock, which ProgressState reads under the monitor. */
    private long nanoTime() {
        if (stallProgress && inProgressUpdate()) {
            stallProgress = false;
            stalled.countDown();
            try {
                goOn.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return System.nanoTime();
    }

    private static boolean inProgressUpdate() {
        return StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
                .walk(frames -> frames.anyMatch(f -> f.getDeclaringClass() == ProgressState.class
                        && f.getMethodName().equals("add")));
    }

    @AfterEach
    void shutdown() {
        goOn.countDown();
        assertThat(scheduler.shutdown(TIMEOUT)).isTrue();
    }

    private FakeJob startHeld(String id, int chunks) throws InterruptedException {
        FakeJob job = new FakeJob(chunks, CHUNK);
        job.gate.close();
        scheduler.start(job, JobOptions.of(id, "top"));
        assertThat(job.gate.awaitWaiting(TIMEOUT)).isTrue();
        return job;
    }

    /** Lets {@code job} on into its progress update, where it stops with the monitor held. */
    private void stallInProgressUpdate(FakeJob job) throws InterruptedException {
        stallProgress = true;
        job.gate.open();
        assertThat(stalled.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
    }

    private JobView viewFromAnotherThread(String id) throws Exception {
        return CompletableFuture.supplyAsync(() -> scheduler.get(id)).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Test
    void aViewIsAnsweredWithoutWaitingForAThreadThatHoldsTheJobsMonitor() throws Exception {
        FakeJob job = startHeld("s1", 1);
        stallInProgressUpdate(job);

        JobView seen = viewFromAnotherThread("s1");

        assertThat(seen.status()).isEqualTo(JobStatus.RUNNING);
        assertThat(seen.currentProgress()).isZero();
    }

    @Test
    void aViewAnsweredWhileTheMonitorIsHeldHasEveryChangeReleasedBefore() throws Exception {
        FakeJob job = startHeld("s1", 2);
        JobView paused = scheduler.pause("s1");
        stallInProgressUpdate(job);

        JobView seen = viewFromAnotherThread("s1");

        assertThat(seen.paused()).isTrue();
        assertThat(seen.version()).isEqualTo(paused.version());
    }

    @Test
    void aSubscriberToldThatAJobIsGoneFindsItGone() throws Exception {
        List<Optional<JobStatus>> foundWhenToldGone = new CopyOnWriteArrayList<>();
        CountDownLatch told = new CountDownLatch(1);
        scheduler.events().subscribe(published -> {
            if (published.event() instanceof JobEvent.JobStatusChange change && change.status() == JobStatus.NULL) {
                foundWhenToldGone.add(scheduler.find(change.id()).map(JobView::status));
                told.countDown();
            }
        });

        scheduler.start(new FakeJob(2, CHUNK), JobOptions.of("s1", "top"));

        assertThat(told.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(foundWhenToldGone).containsExactly(Optional.of(JobStatus.NULL));
    }
}
