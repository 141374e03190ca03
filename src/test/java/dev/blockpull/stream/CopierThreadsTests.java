package dev.blockpull.stream;

import static dev.blockpull.testsupport.AssertImages.assertCheckClean;
import static dev.blockpull.testsupport.AssertImages.assertSameContent;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.job.JobResult;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stream jobs' shared copier threads are bounded: past the bound, a job copies on its own thread. */
class CopierThreadsTests {

    static final long MIB = Chains.MIB;

    @TempDir
    Path dir;

    @Test
    void aCopyBeyondTheBoundRunsOnTheThreadThatAsksForIt() throws Exception {
        ThreadPoolExecutor pool = StreamLauncher.copierPool(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        AtomicReference<Thread> second = new AtomicReference<>();
        try {
            pool.execute(() -> {
                running.countDown();
                awaitQuietly(release);
            });
            running.await();

            pool.execute(() -> second.set(Thread.currentThread()));

            assertThat(second.get()).isSameAs(Thread.currentThread());
            assertThat(pool.getLargestPoolSize()).isEqualTo(1);
        } finally {
            release.countDown();
            pool.shutdown();
        }
    }

    @Test
    void twoJobsWithEightCopiesInFlightEachCompleteOnOneCopierThread() throws IOException {
        QemuTools qemu = QemuTools.require();
        StreamFixture fx = new StreamFixture(dir, StreamSettings.defaults(), 1);
        Chain a = chain(qemu, "a");
        Chain b = chain(qemu, "b");
        Path beforeA = fx.snapshotRaw(a.top(), "a-before.raw");
        Path beforeB = fx.snapshotRaw(b.top(), "b-before.raw");
        fx.openChain(new String[] {"a", "a-base"}, new String[] {"a/top.qcow2", "a/base.qcow2"});
        fx.openChain(new String[] {"b", "b-base"}, new String[] {"b/top.qcow2", "b/base.qcow2"});

        fx.start(Req.device("a").id("a").build());
        fx.start(Req.device("b").id("b").build());

        assertThat(fx.awaitFinished("a").result()).isEqualTo(JobResult.COMPLETED);
        assertThat(fx.awaitFinished("b").result()).isEqualTo(JobResult.COMPLETED);
        fx.close();
        for (Chain c : new Chain[] {a, b}) {
            assertCheckClean(c.top());
        }
        assertSameContent(beforeA, a.top());
        assertSameContent(beforeB, b.top());
    }

    private Chain chain(QemuTools qemu, String sub) throws IOException {
        return Chains.in(qemu, Files.createDirectories(dir.resolve(sub)))
                .base("base.qcow2", "qcow2", 16 * MIB)
                .write(0, 16 * MIB, 0x5a)
                .overlay("top.qcow2")
                .write(MIB, MIB, 0x33)
                .build();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
