package dev.blockpull.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.blockpull.format.Image;
import dev.blockpull.io.IoGate;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Drained sections (stream-semantics §8), with I/O held at the io gate instead of sleeps. */
class DrainTests {

    static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    GraphFixture fx;
    FormatNode top;
    Attachment guest;
    IoGate topGate;

    @BeforeEach
    void setUp() {
        Chains.baseMidTop(QemuTools.require(), dir);
        fx = new GraphFixture(dir);
        top = fx.open("top", "top.qcow2");
        guest = fx.graph.attach(Holder.export("vm1"), top, true, Set.of(), EnumSet.allOf(Permission.class));
        topGate = fx.images.gate(dir.resolve("top.qcow2"));
    }

    @AfterEach
    void tearDown() {
        topGate.open();
        fx.close();
    }

    /** A guest read of data the top holds (0x32 at 768 KiB), parked at the top file's gate. */
    CompletableFuture<Void> heldRead() throws InterruptedException {
        topGate.close();
        CompletableFuture<Void> read =
                CompletableFuture.runAsync(() -> guest.read(768 * 1024, ByteBuffer.allocate(4096)));
        assertThat(topGate.awaitWaiting(1, WAIT)).isTrue();
        return read;
    }

    @Test
    void aDrainWaitsForARequestInFlightAndHoldsOnceTheGateOpens() throws Exception {
        CompletableFuture<Void> read = heldRead();

        CompletableFuture<DrainedSection> drain = CompletableFuture.supplyAsync(() -> fx.graph.drain(top));

        await().atMost(WAIT).until(() -> fx.graph.drainStats().drainsInProgress() == 1);
        DrainStats stats = fx.graph.drainStats();
        assertThat(stats.inFlightRequests()).isPositive();
        assertThat(drain).isNotDone();
        await().atMost(WAIT).until(() -> fx.graph.drainStats().oldestInFlightMillis() > 0);
        topGate.open();
        try (DrainedSection section = drain.get()) {
            read.get(10, java.util.concurrent.TimeUnit.SECONDS); // the request finished: the drain waited for it
            assertThat(section.covers(top)).isTrue();
            assertThat(fx.graph.drainStats()).isEqualTo(new DrainStats(0, 0, 0, 0));
        }
    }

    @Test
    void newExternalRequestsWaitWhileDrainedAndGoOnWhenTheSectionEnds() {
        DrainedSection section = fx.graph.drain(top);
        AtomicBoolean entered = new AtomicBoolean();
        Thread reader = new Thread(() -> {
            guest.read(0, ByteBuffer.allocate(512));
            entered.set(true);
        });
        reader.start();

        await().atMost(WAIT).until(() -> reader.getState() == Thread.State.WAITING);
        assertThat(entered).isFalse();
        section.close();
        await().atMost(WAIT).untilTrue(entered);
    }

    @Test
    void inspectingAnImageWaitsWhileTheNodeIsDrainedAndReadsOnceTheSectionEnds() {
        DrainedSection section = fx.graph.drain(top);
        AtomicLong size = new AtomicLong();
        Thread inspector =
                new Thread(() -> size.set(top.inspect(Image::virtualSize).orElseThrow()));
        inspector.start();

        await().atMost(WAIT).until(() -> inspector.getState() == Thread.State.WAITING);
        assertThat(size).hasValue(0);
        section.close();
        await().atMost(WAIT).untilAsserted(() -> assertThat(size).hasValue(top.length()));
    }

    @Test
    void drainedSectionsNest() {
        DrainedSection outer = fx.graph.drain(top);
        DrainedSection inner = fx.graph.drain(top.backingNode());
        AtomicBoolean entered = new AtomicBoolean();
        Thread reader = new Thread(() -> {
            guest.read(0, ByteBuffer.allocate(512));
            entered.set(true);
        });
        reader.start();

        await().atMost(WAIT).until(() -> reader.getState() == Thread.State.WAITING);
        inner.close();
        assertThat(top.requests().isDrained())
                .as("the outer section still holds")
                .isTrue();
        assertThat(entered).isFalse();
        outer.close();
        await().atMost(WAIT).untilTrue(entered);
    }

    @Test
    void aJobsOwnAttachmentIsNotQueuedByADrain() {
        Attachment job =
                fx.graph.attach(Holder.job("stream", "job0"), top, false, Set.of(), EnumSet.allOf(Permission.class));
        try (DrainedSection ignored = fx.graph.drain(top)) {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            job.read(768 * 1024, buf);
            assertThat(buf.array()).containsOnly(0x32);
        }
    }

    @Test
    void aDrainWaitsForParticipantsToParkAndResumesThemAfter() {
        FakeJob job = new FakeJob(List.of(top));
        try (DrainCoordinator.Registration ignored = fx.graph.drains().register(job)) {
            CompletableFuture<DrainedSection> drain = CompletableFuture.supplyAsync(() -> fx.graph.drain(top));

            await().atMost(WAIT).until(() -> job.pauseRequests.get() == 1);
            assertThat(drain).isNotDone();
            job.parked.set(true);
            fx.graph.drains().wakeDrains();
            DrainedSection section = drain.join();
            assertThat(job.pauseRequests).hasValue(1);
            section.close();
            assertThat(job.pauseRequests).hasValue(0);
        }
    }

    @Test
    void aParticipantOnOtherNodesIsNotAsked() throws Exception {
        QemuTools.require().create(dir.resolve("other.raw"), "raw", "1M");
        fx.open("other", "other.raw");
        FakeJob elsewhere = new FakeJob(List.of(fx.graph.get("other")));
        try (DrainCoordinator.Registration ignored = fx.graph.drains().register(elsewhere);
                DrainedSection section = fx.graph.drain(top)) {
            assertThat(section.covers(top)).isTrue();
            assertThat(elsewhere.pauseRequests).hasValue(0);
        }
    }

    @Test
    void aBoundedDrainGivesUpAndLeavesNothingDrained() throws Exception {
        CompletableFuture<Void> read = heldRead();

        assertThatThrownBy(() -> fx.graph.drain(top, null, Duration.ofMillis(100)))
                .isInstanceOf(DrainTimeoutException.class)
                .hasMessageContaining("request(s) in flight");

        assertThat(top.requests().isDrained()).isFalse();
        assertThat(fx.graph.drainStats().drainsInProgress()).isZero();
        topGate.open();
        read.get();
    }

    @Test
    void graphChangesOutsideADrainAreRefused() {
        DrainedSection ended = fx.graph.drain(top);
        ended.close();

        assertThatThrownBy(() -> fx.graph.insertCopyOnReadFilter(ended, top, null, null))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> fx.graph.setBacking(ended, top, null)).isInstanceOf(IllegalStateException.class);
    }

    /** A participant standing in for a block job: parks when the test says so. */
    static final class FakeJob implements DrainParticipant {
        final Collection<BlockNode> nodes;
        final AtomicInteger pauseRequests = new AtomicInteger();
        final AtomicBoolean parked = new AtomicBoolean();

        FakeJob(Collection<BlockNode> nodes) {
            this.nodes = nodes;
        }

        @Override
        public Collection<? extends BlockNode> drainNodes() {
            return nodes;
        }

        @Override
        public void drainBegin() {
            pauseRequests.incrementAndGet();
        }

        @Override
        public boolean isQuiescent() {
            return parked.get();
        }

        @Override
        public void drainEnd() {
            pauseRequests.decrementAndGet();
        }
    }
}
