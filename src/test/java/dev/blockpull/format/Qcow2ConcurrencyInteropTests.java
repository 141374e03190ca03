package dev.blockpull.format;

import static dev.blockpull.format.Interop.KIB;
import static dev.blockpull.format.Interop.MIB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.AssertImages;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several threads on one writable image over a backing file, with fixed seeds; QEMU judges the
 * result. Writes go to the top image (copy-on-write from the backing), reads through the chain.
 * The guest disk is split in three:
 * <ul>
 *   <li><b>owned</b> ({@code [0, 8M)}): four owner threads, each with a region of its own whose
 *       boundaries are not cluster aligned (neighbours share a cluster, so their copy-on-write of
 *       the same cluster races). Each owner writes random data, writes zeros (with and without
 *       unmap), flushes, and reads its region back against its own model after every step;
 *       the final content must equal the models exactly;</li>
 *   <li><b>contended</b> ({@code [8M, 12M)}): four hammer threads write sector-aligned runs of
 *       one byte value (or zeros) over each other. Every sector must end up uniform and equal to
 *       the last value one of the hammers wrote there (a linearisation that keeps each thread's
 *       order), or the backing content where nobody wrote;</li>
 *   <li><b>untouched</b> ({@code [12M, 16M)}): nobody writes; it must read as the backing file.</li>
 * </ul>
 * Two reader threads read {@code [8M, 16M)} meanwhile: every byte they see in the contended part
 * must be a value some hammer had started to write to that sector, or the backing content; the
 * untouched part must read as the backing file at all times.
 */
class Qcow2ConcurrencyInteropTests {

    private static final long SIZE = 16 * MIB;
    private static final long CONTENDED = 8 * MIB;
    private static final long UNTOUCHED = 12 * MIB;
    private static final int SECTOR = 512;
    private static final long[] OWNER_BOUNDS = {0, 2 * MIB + 1234, 4 * MIB + 77, 6 * MIB + 4000, CONTENDED};
    private static final int HAMMERS = 4;

    private static QemuTools qemu;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        qemu = QemuTools.require();
    }

    /** 16 MiB of per-MiB byte patterns, with compressed clusters in the contended part. */
    private Chain backing() {
        Chains.Builder b = Chains.in(qemu, dir).base("base.qcow2", "qcow2", SIZE);
        for (int i = 0; i < 16; i++) {
            if (i == 9) {
                b.writeCompressed(i * MIB, 256 * KIB, 0x10 + i).write(i * MIB + 256 * KIB, 768 * KIB, 0x10 + i);
            } else {
                b.write(i * MIB, MIB, 0x10 + i);
            }
        }
        return b.build();
    }

    @Test
    void concurrentWritersAndReadersLeaveWhatASerialOrderWouldLeave() throws Exception {
        byte[] base = backing().expected();
        Path top = dir.resolve("top.qcow2");
        ImageCreator.create(
                top,
                CreateOptions.qcow2(SIZE, new BackingReference("base.qcow2", ImageFormat.QCOW2))
                        .withClusterSize(4096));
        int contendedSectors = (int) ((UNTOUCHED - CONTENDED) / SECTOR);
        // Bit v of sector s (4 longs per sector): value v was about to be written there by some hammer.
        AtomicLongArray started = new AtomicLongArray(contendedSectors * 4);
        int[][] lastWritten = new int[HAMMERS][contendedSectors];
        byte[][] ownerModels = new byte[OWNER_BOUNDS.length - 1][];

        try (ImageChain chain = Interop.openChain(top, false)) {
            Image image = chain.top();
            assertThat(chain.layers()).hasSize(2);
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int o = 0; o < ownerModels.length; o++) {
                int owner = o;
                long from = OWNER_BOUNDS[o];
                long to = OWNER_BOUNDS[o + 1];
                ownerModels[o] = Arrays.copyOfRange(base, (int) from, (int) to);
                tasks.add(() -> {
                    owner(chain, from, ownerModels[owner], new Random(100 + owner));
                    return null;
                });
            }
            for (int h = 0; h < HAMMERS; h++) {
                int hammer = h;
                Arrays.fill(lastWritten[h], -1);
                tasks.add(() -> {
                    hammer(image, started, lastWritten[hammer], new Random(200 + hammer));
                    return null;
                });
            }
            for (int r = 0; r < 2; r++) {
                int reader = r;
                tasks.add(() -> {
                    reader(chain, base, started, new Random(300 + reader));
                    return null;
                });
            }
            runTogether(tasks);
        }

        AssertImages.assertCheckClean(top);
        AssertImages.assertNotDirtyNorCorrupt(top);
        byte[] content = AssertImages.guestContent(top);
        for (int o = 0; o < ownerModels.length; o++) {
            Interop.assertSameBytes(
                    Arrays.copyOfRange(content, (int) OWNER_BOUNDS[o], (int) OWNER_BOUNDS[o + 1]),
                    ownerModels[o],
                    "region of owner " + o);
        }
        for (int s = 0; s < contendedSectors; s++) {
            int at = (int) (CONTENDED + (long) s * SECTOR);
            byte[] sector = Arrays.copyOfRange(content, at, at + SECTOR);
            List<Integer> candidates = new ArrayList<>();
            for (int h = 0; h < HAMMERS; h++) {
                if (lastWritten[h][s] >= 0) {
                    candidates.add(lastWritten[h][s]);
                }
            }
            if (candidates.isEmpty()) {
                Interop.assertSameBytes(
                        sector,
                        Arrays.copyOfRange(base, at, at + SECTOR),
                        "contended sector at " + at + " that nobody wrote");
            } else {
                int value = sector[0] & 0xff;
                byte[] uniform = new byte[SECTOR];
                Arrays.fill(uniform, sector[0]);
                Interop.assertSameBytes(sector, uniform, "contended sector at " + at + " (one write's value)");
                assertThat(candidates)
                        .as("contended sector at %d holds the last value of one hammer", at)
                        .contains(value);
            }
        }
        Interop.assertSameBytes(
                Arrays.copyOfRange(content, (int) UNTOUCHED, (int) SIZE),
                Arrays.copyOfRange(base, (int) UNTOUCHED, (int) SIZE),
                "untouched part");
        Interop.assertSameBytes(Interop.readChain(top), content, "engine's view after reopening vs qemu-img convert");
    }

    /**
     * The race the allocator must win: four threads, each owning one 512-byte sector of every
     * 4 KiB cluster, write their sector of the same cluster at the same moment (a barrier per
     * cluster), first over the backing file (the other sectors are copied on write from it), then
     * again after the whole range was zeroed with unmap (ZERO_PLAIN clusters, allocated anew).
     * Every thread's sector must survive: a cluster allocated twice loses all but one of them.
     */
    @Test
    void simultaneousPartialWritesToOneNewClusterAreAllKept() throws Exception {
        byte[] base = backing().expected();
        Path top = dir.resolve("top.qcow2");
        ImageCreator.create(
                top,
                CreateOptions.qcow2(SIZE, new BackingReference("base.qcow2", ImageFormat.QCOW2))
                        .withClusterSize(4096));
        int threads = 4;
        int clusters = 512;
        long span = clusters * 4096L;
        byte[] expected = Arrays.copyOf(base, (int) SIZE);

        try (ImageChain chain = Interop.openChain(top, false)) {
            for (int pass = 0; pass < 2; pass++) {
                if (pass == 1) {
                    chain.top().writeZeroes(0, span, true);
                    Arrays.fill(expected, 0, (int) span, (byte) 0);
                }
                CyclicBarrier barrier = new CyclicBarrier(threads);
                List<Callable<Void>> tasks = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    int p = pass;
                    tasks.add(() -> {
                        byte[] sector = new byte[SECTOR];
                        for (int c = 0; c < clusters; c++) {
                            Arrays.fill(sector, (byte) (0x40 + p * 0x40 + thread * 0x10 + c % 16));
                            barrier.await(1, TimeUnit.MINUTES);
                            chain.top().write(c * 4096L + (long) thread * SECTOR, ByteBuffer.wrap(sector));
                        }
                        return null;
                    });
                    for (int c = 0; c < clusters; c++) {
                        int at = (int) (c * 4096L + (long) t * SECTOR);
                        Arrays.fill(expected, at, at + SECTOR, (byte) (0x40 + pass * 0x40 + t * 0x10 + c % 16));
                    }
                }
                runTogether(tasks);
                Interop.assertSameBytes(Interop.read(chain), expected, "engine's view after pass " + pass);
            }
        }

        AssertImages.assertCheckClean(top);
        AssertImages.assertContent(top, expected);
    }

    /** Random writes, zero writes, flushes and verifying reads inside {@code [from, from + model.length)}. */
    private static void owner(ImageChain chain, long from, byte[] model, Random rnd) {
        Image image = chain.top();
        for (int i = 0; i < 200; i++) {
            int len = 1 + rnd.nextInt(Math.min(model.length, 40_000));
            int at = rnd.nextInt(model.length - len + 1);
            int op = rnd.nextInt(20);
            if (op < 10) {
                byte[] data = new byte[len];
                rnd.nextBytes(data);
                image.write(from + at, ByteBuffer.wrap(data));
                System.arraycopy(data, 0, model, at, len);
            } else if (op < 13) {
                image.writeZeroes(from + at, len, rnd.nextBoolean());
                Arrays.fill(model, at, at + len, (byte) 0);
            } else if (op < 19) {
                byte[] got = new byte[len];
                chain.read(from + at, ByteBuffer.wrap(got));
                Interop.assertSameBytes(
                        got,
                        Arrays.copyOfRange(model, at, at + len),
                        "owner read of [" + (from + at) + ", " + (from + at + len) + ") after " + i + " operations");
            } else {
                image.flush();
            }
        }
    }

    /**
     * Sector-aligned runs of one value, or zeros, half of them in a hot 256 KiB window. Whole
     * clusters are often zeroed with unmap, so that the next partial write to them allocates (and
     * copies on write) again: the window where two writers race for one new cluster keeps coming back.
     */
    private static void hammer(Image image, AtomicLongArray started, int[] lastWritten, Random rnd) {
        int sectors = lastWritten.length;
        int clusterSectors = image.clusterSize() / SECTOR;
        int hot = (int) (256 * KIB / SECTOR);
        for (int i = 0; i < 400; i++) {
            int op = rnd.nextInt(20);
            int count = 1 + rnd.nextInt(16);
            int first = rnd.nextInt((rnd.nextBoolean() ? hot : sectors) - count + 1);
            if (op >= 14 && op < 18) {
                first -= first % clusterSectors;
                count = clusterSectors * (1 + rnd.nextInt(3));
            }
            boolean zero = op >= 14;
            int value = zero ? 0 : 0x20 + rnd.nextInt(0xd0);
            for (int s = first; s < first + count; s++) {
                started.accumulateAndGet(s * 4 + value / 64, 1L << (value % 64), (a, b) -> a | b);
            }
            long offset = CONTENDED + (long) first * SECTOR;
            if (zero) {
                image.writeZeroes(offset, (long) count * SECTOR, op < 18);
            } else {
                byte[] data = new byte[count * SECTOR];
                Arrays.fill(data, (byte) value);
                image.write(offset, ByteBuffer.wrap(data));
            }
            Arrays.fill(lastWritten, first, first + count, value);
        }
    }

    /** Random reads of {@code [8M, 16M)}, each byte checked against what may be there. */
    private static void reader(ImageChain chain, byte[] base, AtomicLongArray started, Random rnd) {
        for (int i = 0; i < 300; i++) {
            int len = 1 + rnd.nextInt((int) (64 * KIB));
            long offset = CONTENDED + rnd.nextLong(SIZE - CONTENDED - len + 1);
            byte[] got = new byte[len];
            chain.read(offset, ByteBuffer.wrap(got));
            for (int k = 0; k < len; k++) {
                long pos = offset + k;
                int value = got[k] & 0xff;
                if (value == (base[(int) pos] & 0xff)) {
                    continue;
                }
                assertThat(pos)
                        .as("byte at %d reads 0x%02x, but the untouched part reads as the backing file", pos, value)
                        .isLessThan(UNTOUCHED);
                int sector = (int) ((pos - CONTENDED) / SECTOR);
                long word = started.get(sector * 4 + value / 64);
                assertThat(word & (1L << (value % 64)))
                        .as("byte at %d reads 0x%02x, which no hammer wrote there", pos, value)
                        .isNotZero();
            }
        }
    }

    /** Starts all tasks at once and waits for all of them; the first failure fails the test. */
    private static void runTogether(List<Callable<Void>> tasks) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Void>> futures = new ArrayList<>();
            for (Callable<Void> task : tasks) {
                futures.add(pool.submit(() -> {
                    start.await();
                    return task.call();
                }));
            }
            start.countDown();
            for (Future<Void> f : futures) {
                try {
                    f.get(2, TimeUnit.MINUTES);
                } catch (ExecutionException e) {
                    throw new AssertionError("a worker failed: " + e.getCause(), e.getCause());
                } catch (TimeoutException e) {
                    throw new AssertionError("a worker did not finish within 2 minutes (deadlock?)", e);
                }
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS))
                    .as("workers stopped")
                    .isTrue();
        }
    }
}
