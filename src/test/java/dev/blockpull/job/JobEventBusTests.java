package dev.blockpull.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class JobEventBusTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final JobEventBus bus =
            new JobEventBus(4, 3, Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC));

    @AfterEach
    void closeBus() {
        bus.close();
    }

    private static JobEvent status(String id, JobStatus s) {
        return new JobEvent.JobStatusChange(id, s);
    }

    @Test
    void sequenceNumbersStartAtOneAndIncreaseByOne() {
        assertThat(bus.publish(status("a", JobStatus.CREATED)).sequence()).isEqualTo(1);
        assertThat(bus.publish(status("b", JobStatus.CREATED)).sequence()).isEqualTo(2);
        assertThat(bus.lastSequence()).isEqualTo(2);
    }

    @Test
    void numberingContinuesAfterTheSequenceOfAPreviousRunAndAnOlderLastEventIdReplaysEverything() {
        bus.continueAfter(1_000_500);
        bus.publish(status("a", JobStatus.CREATED));
        bus.publish(status("a", JobStatus.RUNNING));

        assertThat(bus.lastSequence()).isEqualTo(1_000_502);
        EventReplay replay = bus.replayAfter(480);
        assertThat(replay.events()).extracting(PublishedEvent::sequence).containsExactly(1_000_501L, 1_000_502L);
        assertThat(replay.complete()).isTrue();
    }

    @Test
    void aSubscriberReceivesEveryEventInOrder() {
        EventRecorder recorder = new EventRecorder();
        bus.subscribe(recorder);
        bus.publish(status("a", JobStatus.CREATED));
        bus.publish(status("a", JobStatus.RUNNING));
        await().atMost(TIMEOUT).until(() -> recorder.received.size() == 2);
        assertThat(recorder.received).extracting(PublishedEvent::sequence).containsExactly(1L, 2L);
    }

    @Test
    void replayAfterASequenceReturnsOnlyLaterEventsStillInTheRing() {
        for (int i = 0; i < 6; i++) {
            bus.publish(status("j" + i, JobStatus.CREATED));
        }
        EventReplay replay = bus.replayAfter(3);
        assertThat(replay.events()).extracting(PublishedEvent::sequence).containsExactly(4L, 5L, 6L);
        assertThat(replay.complete()).isTrue();
    }

    @Test
    void replayReportsAGapWhenAskedEventsLeftTheRing() {
        for (int i = 0; i < 6; i++) {
            bus.publish(status("j" + i, JobStatus.CREATED));
        }
        EventReplay replay = bus.replayAfter(1);
        assertThat(replay.events()).extracting(PublishedEvent::sequence).containsExactly(3L, 4L, 5L, 6L);
        assertThat(replay.complete()).isFalse();
    }

    @Test
    void subscribingAfterASequenceReplaysThenContinuesLive() {
        bus.publish(status("a", JobStatus.CREATED));
        bus.publish(status("a", JobStatus.RUNNING));
        EventRecorder recorder = new EventRecorder();
        EventSubscription s = bus.subscribe(1, recorder);
        bus.publish(status("a", JobStatus.PAUSED));
        await().atMost(TIMEOUT).until(() -> recorder.received.size() == 2);
        assertThat(recorder.received).extracting(PublishedEvent::sequence).containsExactly(2L, 3L);
        assertThat(s.replayComplete()).isTrue();
    }

    @Test
    void aSlowSubscriberNeverBlocksThePublisherAndIsDisconnectedWhenItFallsBehind() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch inside = new CountDownLatch(1);
        AtomicReference<EventSubscriber.DisconnectReason> reason = new AtomicReference<>();
        EventSubscription slow = bus.subscribe(new EventSubscriber() {
            @Override
            public void onEvent(PublishedEvent event) {
                inside.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }

            @Override
            public void onDisconnect(DisconnectReason r) {
                reason.set(r);
            }
        });

        bus.publish(status("a", JobStatus.CREATED));
        assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
        // The slow one is stuck in its first event; its queue of 3 overflows at the 5th event.
        for (int i = 0; i < 10; i++) {
            bus.publish(status("a" + i, JobStatus.CREATED));
        }
        assertThat(bus.lastSequence()).isEqualTo(11);
        await().atMost(TIMEOUT).until(() -> reason.get() == EventSubscriber.DisconnectReason.TOO_SLOW);
        assertThat(slow.isOpen()).isFalse();
        release.countDown();
    }

    @Test
    void deliveryToManyStuckSubscribersUsesABoundedNumberOfThreads() throws Exception {
        int subscribers = JobEventBus.DELIVERY_THREADS * 2;
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger mostInside = new AtomicInteger();
        AtomicInteger delivered = new AtomicInteger();
        for (int i = 0; i < subscribers; i++) {
            bus.subscribe(new EventSubscriber() {
                @Override
                public void onEvent(PublishedEvent event) {
                    mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    inside.decrementAndGet();
                    delivered.incrementAndGet();
                }

                @Override
                public void onDisconnect(DisconnectReason r) {}
            });
        }

        bus.publish(status("a", JobStatus.CREATED));
        await().atMost(TIMEOUT).until(() -> inside.get() == JobEventBus.DELIVERY_THREADS);
        assertThat(bus.lastSequence()).as("the publisher went on").isEqualTo(1);
        release.countDown();

        await().atMost(TIMEOUT).until(() -> delivered.get() == subscribers);
        assertThat(mostInside.get()).isEqualTo(JobEventBus.DELIVERY_THREADS);
    }

    @Test
    void aFailingSubscriberIsDisconnectedWithoutHarmingOthers() {
        AtomicReference<EventSubscriber.DisconnectReason> reason = new AtomicReference<>();
        bus.subscribe(new EventSubscriber() {
            @Override
            public void onEvent(PublishedEvent event) {
                throw new IllegalStateException("broken client");
            }

            @Override
            public void onDisconnect(DisconnectReason r) {
                reason.set(r);
            }
        });
        EventRecorder other = new EventRecorder();
        bus.subscribe(other);
        bus.publish(status("a", JobStatus.CREATED));
        bus.publish(status("a", JobStatus.RUNNING));
        await().atMost(TIMEOUT).until(() -> reason.get() == EventSubscriber.DisconnectReason.FAILED);
        await().atMost(TIMEOUT).until(() -> other.received.size() == 2);
        assertThat(bus.subscriberCount()).isEqualTo(1);
    }

    @Test
    void aClosedSubscriptionReceivesNothingMore() {
        EventRecorder recorder = new EventRecorder();
        EventSubscription s = bus.subscribe(recorder);
        s.close();
        bus.publish(status("a", JobStatus.CREATED));
        assertThat(bus.subscriberCount()).isZero();
        assertThat(recorder.received).isEmpty();
    }

    @Test
    void payloadsCarryQmpMemberNames() {
        assertThat(new JobEvent.JobStatusChange("s1", JobStatus.RUNNING).data())
                .containsExactly(java.util.Map.entry("id", "s1"), java.util.Map.entry("status", "running"));
        assertThat(new JobEvent.BlockJobCompleted("stream", "s1", 10, 5, 0, null).data())
                .containsOnlyKeys("type", "device", "len", "offset", "speed");
        assertThat(new JobEvent.BlockJobCompleted("stream", "s1", 10, 5, 0, "Input/output error").data())
                .containsEntry("error", "Input/output error");
        assertThat(new JobEvent.BlockJobError("s1", IoOperation.READ, ErrorAction.STOP).data())
                .containsEntry("operation", "read")
                .containsEntry("action", "stop");
        assertThat(new JobEvent.BlockJobPending("stream", "s1").data()).containsOnlyKeys("type", "id");
        assertThat(List.of(
                        new JobEvent.BlockJobCancelled("stream", "s1", 1, 1, 0).name(),
                        new JobEvent.BlockJobReady("stream", "s1", 1, 1, 0).name()))
                .containsExactly("BLOCK_JOB_CANCELLED", "BLOCK_JOB_READY");
    }

    private static JobEvent progress(String id, long offset) {
        return new JobEvent.JobProgress(id, offset, 100, 10, 1L);
    }

    @Test
    void replayKeepsOnlyTheLatestProgressOfEachJob() {
        bus.publish(status("a", JobStatus.RUNNING));
        bus.publish(progress("a", 10));
        bus.publish(progress("b", 10));
        bus.publish(progress("a", 20));

        EventReplay replay = bus.replayAfter(0);

        assertThat(replay.events()).extracting(PublishedEvent::sequence).containsExactly(1L, 3L, 4L);
        assertThat(replay.events().get(2).event()).isEqualTo(progress("a", 20));
        assertThat(replay.complete()).isTrue();
    }

    @Test
    void progressNeverPushesStatusChangesOutOfTheRing() {
        bus.publish(status("a", JobStatus.CREATED));
        bus.publish(status("a", JobStatus.RUNNING));
        for (int i = 0; i < 20; i++) {
            bus.publish(progress("a", i));
        }

        EventReplay replay = bus.replayAfter(0);

        assertThat(replay.events())
                .extracting(p -> p.event().name())
                .containsExactly("JOB_STATUS_CHANGE", "JOB_STATUS_CHANGE", "JOB_PROGRESS");
        assertThat(replay.complete()).isTrue();
    }

    @Test
    void liveSubscribersReceiveEveryProgressEvent() {
        EventRecorder recorder = new EventRecorder();
        bus.subscribe(recorder);
        bus.publish(progress("a", 10));
        bus.publish(progress("a", 20));

        await().atMost(TIMEOUT).until(() -> recorder.received.size() == 2);
        assertThat(recorder.received)
                .extracting(PublishedEvent::event)
                .containsExactly(progress("a", 10), progress("a", 20));
    }

    @Test
    void progressOlderThanTheRingsGapIsDropped() {
        bus.publish(progress("a", 10));
        for (int i = 0; i < 5; i++) {
            bus.publish(status("j" + i, JobStatus.CREATED));
        }

        EventReplay replay = bus.replayAfter(0);

        assertThat(replay.events()).extracting(p -> p.event().name()).doesNotContain("JOB_PROGRESS");
        assertThat(replay.complete()).isFalse();
    }

    @Test
    void progressPayloadCarriesOffsetLenRateAndEta() {
        assertThat(new JobEvent.JobProgress("s1", 5, 10, 2, 3L).data())
                .containsExactly(
                        java.util.Map.entry("id", "s1"),
                        java.util.Map.entry("offset", 5L),
                        java.util.Map.entry("len", 10L),
                        java.util.Map.entry("bytesPerSecond", 2L),
                        java.util.Map.entry("etaSeconds", 3L));
        assertThat(new JobEvent.JobProgress("s1", 0, 0, 0, null).data()).containsEntry("etaSeconds", null);
    }
}
