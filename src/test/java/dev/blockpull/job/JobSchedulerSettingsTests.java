package dev.blockpull.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The scheduler with injected clocks and a small history: what the settings control. */
class JobSchedulerSettingsTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final long CHUNK = 512 * 1024;
    private static final long SECOND = 1_000_000_000L;

    private final JobHistoryTests.MutableClock wallClock =
            new JobHistoryTests.MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final AtomicLong nanos = new AtomicLong(42 * SECOND);
    private final JobScheduler scheduler = new JobScheduler(JobSchedulerSettings.defaults()
            .withHistory(2, Duration.ofMinutes(10))
            .withClocks(wallClock, nanos::get)
            .withProgressInterval(Duration.ofSeconds(1)));
    private FakeJob held;

    @AfterEach
    void shutdown() {
        if (held != null) {
            held.gate.open();
        }
        assertThat(scheduler.shutdown(TIMEOUT)).isTrue();
    }

    private void runToTheEnd(String id) {
        scheduler.start(new FakeJob(1, CHUNK), JobOptions.of(id, "top"));
        await().atMost(TIMEOUT).until(() -> scheduler.get(id).status() == JobStatus.NULL);
    }

    @Test
    void theHistoryKeepsOnlyTheConfiguredNumberOfFinishedJobs() {
        runToTheEnd("a");
        runToTheEnd("b");
        runToTheEnd("c");

        assertThat(scheduler.list()).extracting(JobView::id).containsExactly("b", "c");
        assertThat(scheduler.find("a")).isEmpty();
    }

    @Test
    void finishedJobsLeaveTheHistoryAfterTheConfiguredAge() {
        runToTheEnd("a");
        wallClock.advance(Duration.ofMinutes(11));

        assertThat(scheduler.find("a")).isEmpty();
    }

    @Test
    void timesComeFromTheInjectedWallClock() {
        runToTheEnd("a");

        JobView record = scheduler.get("a");
        assertThat(record.createdAt()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(record.finishedAt()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(scheduler.events().replayAfter(0).events())
                .allSatisfy(e -> assertThat(e.time()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z")));
    }

    @Test
    void throughputAndEtaFollowTheMonotonicClock() throws Exception {
        held = new FakeJob(4, CHUNK);
        held.gate.close();
        scheduler.start(held, JobOptions.of("s1", "top"));
        assertThat(held.gate.awaitWaiting(TIMEOUT)).isTrue();

        nanos.addAndGet(SECOND);
        held.gate.release(1);
        await().atMost(TIMEOUT).until(() -> scheduler.get("s1").currentProgress() == CHUNK);

        JobView view = scheduler.get("s1");
        assertThat(view.bytesPerSecond()).isEqualTo(CHUNK);
        assertThat(view.etaSeconds()).isEqualTo(3L);
    }

    @Test
    void aFinishedJobReportsNoThroughputAndNoEta() {
        runToTheEnd("a");

        JobView record = scheduler.get("a");
        assertThat(record.bytesPerSecond()).isZero();
        assertThat(record.etaSeconds()).isNull();
    }

    @Test
    void aRunningJobPublishesProgressAtMostOncePerInterval() throws Exception {
        EventRecorder events = new EventRecorder();
        scheduler.events().subscribe(events);
        held = new FakeJob(4, CHUNK);
        held.gate.close();
        scheduler.start(held, JobOptions.of("s1", "top"));
        assertThat(held.gate.awaitWaiting(TIMEOUT)).isTrue();

        held.gate.release(1);
        await().atMost(TIMEOUT).until(() -> scheduler.get("s1").currentProgress() == CHUNK);
        nanos.addAndGet(SECOND);
        held.gate.release(2);
        await().atMost(TIMEOUT).until(() -> scheduler.get("s1").currentProgress() == 3 * CHUNK);

        // Chunk 1 came too soon after the start, chunk 3 too soon after chunk 2.
        await().atMost(TIMEOUT)
                .until(() -> events.received.stream().anyMatch(p -> p.event() instanceof JobEvent.JobProgress));
        assertThat(events.received)
                .extracting(PublishedEvent::event)
                .filteredOn(JobEvent.JobProgress.class::isInstance)
                .containsExactly(new JobEvent.JobProgress("s1", 2 * CHUNK, 4 * CHUNK, 2 * CHUNK, 1L));
    }
}
