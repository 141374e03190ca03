package dev.blockpull.stream;

import static dev.blockpull.testsupport.AssertImages.assertSameContent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.blockpull.graph.Attachment;
import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.CopyOnReadFilter;
import dev.blockpull.graph.DrainedSection;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.graph.Holder;
import dev.blockpull.graph.Permission;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.BufferPool;
import dev.blockpull.io.DirectMemory;
import dev.blockpull.io.FaultInjectingBlockFile;
import dev.blockpull.job.ErrorAction;
import dev.blockpull.job.IoOperation;
import dev.blockpull.job.JobContext;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The copy loop over a real chain, driven without the job floor. It allocates no buffer: after a
 * first stream has warmed the buffer pool, a second stream of 96 MiB makes no new buffer, and the
 * heap garbage it leaves is small records per cluster and per request (extent lists, write plans),
 * about 1 % of the bytes it moves, where a bounce buffer per request would be 100 % (measured with
 * the JVM's per-thread allocation counters on the loop's own threads). And it pushes the top's
 * data to disk as it goes, so that completion's flush has little left.
 */
class CopyLoopTests {

    static final long MIB = StreamFixture.MIB;
    static final long SIZE = 128 * MIB;
    /** Heap bytes per copied MiB the loop may allocate: far below the 1 MiB a fresh bounce per MiB would cost. */
    static final long MAX_HEAP_BYTES_PER_MIB = 6 * 1024;

    @TempDir
    Path dir;

    final List<StreamFixture> fixtures = new ArrayList<>();
    final AtomicInteger threads = new AtomicInteger();
    final List<Thread> copierThreads = new ArrayList<>();
    final ExecutorService copiers = Executors.newFixedThreadPool(8, r -> {
        Thread t = new Thread(r, "test-copier-" + threads.incrementAndGet());
        synchronized (copierThreads) {
            copierThreads.add(t);
        }
        return t;
    });

    /** Tasks handed to the copiers: copies in flight and write-behinds. */
    final AtomicInteger tasks = new AtomicInteger();

    @AfterEach
    void tearDown() {
        copiers.shutdownNow();
        fixtures.forEach(StreamFixture::close);
    }

    @Test
    void aWarmStreamMakesNoBufferAndAllocatesAlmostNothingPerCopiedMiB() {
        QemuTools qemu = QemuTools.require();
        StreamSettings settings = StreamSettings.defaults();
        prepare(qemu, "warm", settings, 0).run(); // JIT, classes and the pool's buffers
        Copy copy = prepare(qemu, "measured", settings, 0);

        BufferPool pool = BufferPool.shared();
        long buffersBefore = pool.created();
        long heapBefore = allocatedBytes();
        copy.run();
        long heap = allocatedBytes() - heapBefore;

        long copiedMib = copy.context.progress / MIB;
        assertThat(copy.meters.all.copied("j").orElseThrow()).as("bytes copied").isEqualTo(96 * MIB);
        assertThat(pool.created()).as("buffers made during a warm stream").isEqualTo(buffersBefore);
        assertThat(heap / copiedMib).as("heap bytes allocated per copied MiB").isLessThan(MAX_HEAP_BYTES_PER_MIB);
        assertSameContent(copy.chain.path("top.qcow2"), copy.expected);
    }

    @Test
    void anUnlimitedCopyWritesTheTopBackAfterEvery64MiB() {
        Copy copy = prepare(QemuTools.require(), "unlimited", StreamSettings.defaults(), 0);

        copy.loop.run(copy.context);

        assertThat(copy.topFile().counters().forces())
                .as("write-behinds of 96 MiB copied")
                .isEqualTo(1);
    }

    @Test
    void aRateLimitedCopyWritesTheTopBackAfterEachSecondsWorthOfItsSpeed() {
        Copy copy = prepare(QemuTools.require(), "limited", StreamSettings.defaults(), 8 * MIB);

        copy.loop.run(copy.context);

        assertThat(copy.topFile().counters().forces())
                .as("write-behinds of 96 MiB copied at 8 MiB/s")
                .isEqualTo(12);
        assertSameContentAfterClose(copy);
    }

    @Test
    void aSlowRateLimitCopiesOneChunkAtATimeOnTheJobThread() {
        Copy copy = prepare(QemuTools.require(), "slow", StreamSettings.defaults(), 8 * MIB);

        copy.loop.run(copy.context);

        assertThat(tasks.get())
                .as("tasks run by the copiers: the write-behinds only")
                .isEqualTo(copy.topFile().counters().forces());
        assertThat(copy.context.accounted).as("bytes the limiter was told of").isEqualTo(96 * MIB);
    }

    @Test
    void aFastRateLimitKeepsSeveralCopiesInFlightAndAccountsEveryChunk() {
        Copy copy = prepare(QemuTools.require(), "fast", StreamSettings.defaults(), 200 * MIB);

        copy.loop.run(copy.context);

        assertThat(tasks.get())
                .as("tasks run by the copiers: copies beside the write-behinds")
                .isGreaterThan((int) copy.topFile().counters().forces());
        assertThat(copy.context.accounted).as("bytes the limiter was told of").isEqualTo(96 * MIB);
        assertSameContentAfterClose(copy);
    }

    @Test
    void withoutDirectMemoryToSpareAJobCopiesWithOneBufferAndCompletes() {
        DirectMemory full = new DirectMemory(() -> 1L << 30, 1L << 30);
        BufferPool pool = new BufferPool(32 << 20, 64 << 20, full);
        Copy copy = prepare(QemuTools.require(), "no-room", StreamSettings.defaults(), 0, pool);

        copy.loop.run(copy.context);

        assertThat(pool.created()).as("buffers made: the first copy's only").isEqualTo(1);
        assertThat(copy.context.progress).isEqualTo(SIZE);
        assertSameContentAfterClose(copy);
    }

    @Test
    // the defect this guards against was a loop waiting forever, deaf to interrupts
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aCopyWhoseBufferCannotBeMadeFailsAsAnIoErrorInsteadOfLeavingTheJobWaiting() {
        AtomicInteger made = new AtomicInteger();
        DirectMemory oneBufferOnly = new DirectMemory(() -> 0, 1L << 40, size -> {
            if (made.getAndIncrement() > 0) {
                throw new OutOfMemoryError("Cannot reserve " + size + " bytes of direct buffer memory");
            }
            return ByteBuffer.allocateDirect(size);
        });
        Copy copy = prepare(
                QemuTools.require(),
                "no-buffer",
                StreamSettings.defaults(),
                0,
                new BufferPool(32 << 20, 64 << 20, oneBufferOnly));
        copy.context.onError = ErrorAction.REPORT;

        assertThatThrownBy(() -> copy.loop.run(copy.context))
                .isInstanceOf(BlockIoException.class)
                .hasMessageContaining("No direct memory for a copy buffer");
        assertThat(copy.context.errors)
                .isNotEmpty()
                .allSatisfy(e -> assertThat(e).isInstanceOf(BlockIoException.class));
    }

    @Test
    void theWriteBehindIntervalFollowsTheSpeedBetween1And64MiB() {
        assertThat(CopyLoop.writeBackEvery(0)).isEqualTo(64 * MIB);
        assertThat(CopyLoop.writeBackEvery(100)).isEqualTo(MIB);
        assertThat(CopyLoop.writeBackEvery(20 * MIB)).isEqualTo(20 * MIB);
        assertThat(CopyLoop.writeBackEvery(1024 * MIB)).isEqualTo(64 * MIB);
    }

    private static void assertSameContentAfterClose(Copy copy) {
        copy.attachment.close();
        copy.fixture.close();
        assertSameContent(copy.chain.path("top.qcow2"), copy.expected);
    }

    /** A copy loop set up over a chain, as the stream job's set-up leaves it. */
    record Copy(
            Chain chain,
            Path expected,
            CopyLoop loop,
            Attachment attachment,
            ProgressContext context,
            Meters meters,
            StreamFixture fixture) {
        void run() {
            loop.run(context);
            attachment.close();
        }

        FaultInjectingBlockFile topFile() {
            return fixture.images.file(chain.path("top.qcow2"));
        }
    }

    /** A chain whose base holds 96 of 128 MiB in runs of 12 MiB, to be streamed whole through the copy loop. */
    private Copy prepare(QemuTools qemu, String name, StreamSettings settings, long speed) {
        return prepare(qemu, name, settings, speed, BufferPool.shared());
    }

    private Copy prepare(QemuTools qemu, String name, StreamSettings settings, long speed, BufferPool pool) {
        Path d = dir.resolve(name);
        try {
            Files.createDirectories(d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Chains.Builder b = Chains.in(qemu, d).base("base.qcow2", "qcow2", SIZE);
        for (long off = 0; off < SIZE; off += 16 * MIB) {
            b.write(off, 12 * MIB, 0x40 + (int) (off / (16 * MIB)));
        }
        Chain chain = b.overlay("mid.qcow2").overlay("top.qcow2").build();
        StreamFixture fx = new StreamFixture(d, settings);
        fixtures.add(fx);
        Path expected = fx.snapshotRaw(chain.path("top.qcow2"), "expected.raw");
        FormatNode top = fx.openBaseMidTop("base.qcow2");
        CopyOnReadFilter filter;
        try (DrainedSection section = fx.graph.drain(top)) {
            fx.graph.reopen(section, top, false);
            filter = fx.graph.insertCopyOnReadFilter(section, top, null, null);
        }
        Attachment attachment = fx.graph.attach(
                Holder.job("stream", name),
                filter,
                false,
                EnumSet.of(Permission.CONSISTENT_READ),
                Set.of(Permission.values()));
        ChunkPlanner planner =
                new ChunkPlanner(top, BackingChain.cow(top), fx.node("base"), SIZE, settings.chunkSize());
        ProgressContext context = new ProgressContext(name, speed);
        Meters meters = new Meters();
        CopyLoop loop = new CopyLoop(
                attachment,
                planner,
                SIZE,
                settings,
                task -> {
                    tasks.incrementAndGet();
                    copiers.execute(task);
                },
                pool,
                meters.job);
        return new Copy(chain, expected, loop, attachment, context, meters, fx);
    }

    /** Heap bytes allocated so far by this thread and the copiers. */
    private long allocatedBytes() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long total = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
        synchronized (copierThreads) {
            for (Thread t : copierThreads) {
                total += Math.max(0, mx.getThreadAllocatedBytes(t.getId()));
            }
        }
        return total;
    }

    /** A fresh meter and its one job's counter. */
    static final class Meters {
        final CopyMeters all = new CopyMeters();
        final CopyMeters.Job job = all.startJob("j");
    }

    /** The job floor's side of the loop, reduced to progress: no pause, a speed but no sleep, errors fail the test. */
    static final class ProgressContext implements JobContext {
        private final String id;
        private final long speed;
        long progress;
        long accounted;
        /** What the on-error policy answers; null: an error fails the test. */
        @Nullable
        ErrorAction onError;

        final List<Throwable> errors = new ArrayList<>();

        ProgressContext(String id, long speed) {
            this.id = id;
            this.speed = speed;
        }

        @Override
        public String jobId() {
            return id;
        }

        @Override
        public void pausePoint() {}

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public boolean pauseRequested() {
            return false;
        }

        @Override
        public long speed() {
            return speed;
        }

        @Override
        public void setProgressRemaining(long remaining) {}

        @Override
        public void addProgress(long bytes) {
            progress += bytes;
        }

        @Override
        public void rateLimitAccount(long bytes) {
            accounted += bytes;
        }

        @Override
        public long rateLimitDelay() {
            return 0;
        }

        @Override
        public ErrorAction handleError(Throwable error, IoOperation operation) {
            if (onError == null) {
                throw new AssertionError("copy failed", error);
            }
            errors.add(error);
            return onError;
        }

        @Override
        public void transitionToReady() {}
    }
}
