package dev.blockpull.format.qcow2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.blockpull.format.Image;
import dev.blockpull.format.ImageChain;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;
import dev.blockpull.format.qcow2.CrashWorkload.Op;
import dev.blockpull.format.qcow2.ImageMutations.RegionKind;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.BlockFile;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.FaultInjectingBlockFile;
import dev.blockpull.io.FaultRule;
import dev.blockpull.io.FileChannelBlockFile;
import dev.blockpull.io.JournalEntry;
import dev.blockpull.io.WriteJournal;
import dev.blockpull.testsupport.CheckResult;
import dev.blockpull.testsupport.Qcow2Surgery;
import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Crash safety of the qcow2 writer (qcow2-notes §8, §10.3 item 5). A workload that allocates
 * clusters runs once over {@link FaultInjectingBlockFile} with its write journal on; every crash
 * point is then rebuilt by replaying part of the journal onto a copy of the original file: every
 * prefix (a crash right after write N, with everything before it on disk) and subsets of the
 * writes between two barriers (unflushed writes reach the disk in any order, or not at all). The
 * direct form fails the N-th write with EIO and every later one (a crash point) and reopens the
 * file. Each resulting file must pass {@code qemu-img check} with at most leaks, and read back,
 * through the engine and through {@code qemu-img convert}, every write acknowledged by a
 * completed flush, while each cluster of an unflushed write reads either old or new content.
 */
@Timeout(120)
class CrashSafetyTests {

    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    /** At most this many subsets of one barrier epoch are replayed. */
    private static final int SUBSETS_PER_EPOCH = 16;
    /** Failures reported per test before it stops looking (each one names its crash point). */
    private static final int MAX_PROBLEMS = 10;

    @TempDir
    Path dir;

    private static QemuTools qemu;

    @BeforeAll
    static void requireQemu() {
        qemu = QemuTools.require();
    }

    /** Workloads; each names what it exercises. Backing and prepared content are made by QEMU. */
    enum Scenario {
        /**
         * 64 KiB clusters, v3, 1.5 GiB overlay over a 4 MiB-of-data base: partial-cluster COW from
         * the backing, two new L2 tables, overwrites of compressed clusters (partial and whole),
         * zero writes that free a data cluster and a compressed cluster, zero writes that keep the
         * cluster (ZERO_ALLOC) and a later write into it, in-place overwrites, unaligned writes.
         */
        COW_OVER_BACKING_64K(
                "cluster_size=65536,compat=1.1",
                1536 * MIB,
                true,
                List.of("write -P 0x21 2M 128k", "write -c -P 0x2c 1M 192k", "write -P 0x22 3M 64k"),
                List.of(
                        Op.write(8 * KIB, 4 * KIB, 0xA1),
                        Op.write(600 * MIB + 60 * KIB, 72 * KIB, 0xA2),
                        Op.flush(),
                        Op.write(MIB + 4 * KIB, 4 * KIB, 0xA3),
                        Op.zero(2 * MIB, 64 * KIB, true),
                        Op.write(1100 * MIB, 64 * KIB, 0xA4),
                        Op.flush(),
                        Op.write(MIB + 64 * KIB, 64 * KIB, 0xA5),
                        Op.zero(3 * MIB, 64 * KIB, false),
                        Op.write(12 * KIB, 4 * KIB, 0xA6),
                        Op.flush(),
                        Op.write(3 * MIB + 4 * KIB, 4 * KIB, 0xA7),
                        Op.zero(MIB + 128 * KIB, 64 * KIB, true),
                        Op.write(5 * MIB + 100, 1000, 0xA8),
                        Op.zero(2 * MIB + 64 * KIB, 64 * KIB, false),
                        Op.flush(),
                        Op.write(600 * MIB + 200 * KIB, 16 * KIB, 0xA9),
                        Op.write(0, 4 * KIB, 0xAA)),
                List.of(64 * KIB, 4 * MIB - 64 * KIB, 7 * MIB)),
        /**
         * qcow2 v2, 512-byte clusters, 16-bit refcounts: many new L2 tables and several new
         * refcount blocks (one per 128 KiB of file), unaligned partial clusters, a v2 zero write
         * (written as data, in place).
         */
        V2_SMALL_CLUSTERS(
                "cluster_size=512,compat=0.10",
                2 * MIB,
                false,
                List.of("write -P 0x31 0 8k", "write -P 0x32 1536k 4k"),
                List.of(
                        Op.write(64 * KIB, 64 * KIB, 0xB1),
                        Op.write(256 * KIB + 300, 10000, 0xB2),
                        Op.flush(),
                        Op.write(512 * KIB, 128 * KIB, 0xB3),
                        Op.zero(0, 4 * KIB, true),
                        Op.flush(),
                        Op.write(MIB, 192 * KIB, 0xB4),
                        Op.flush(),
                        Op.write(1792 * KIB, 32 * KIB, 0xB5)),
                List.of(1536 * KIB)),
        /**
         * v3, 512-byte clusters, 64-bit refcounts: one refcount block covers 32 KiB of file and
         * the one-cluster refcount table 2 MiB, so writing 2.3 MiB creates dozens of refcount
         * blocks and grows (relocates) the refcount table; then a zero write frees clusters.
         */
        REFCOUNT_TABLE_GROWTH_512(
                "cluster_size=512,compat=1.1,refcount_bits=64",
                4 * MIB,
                false,
                List.of("write -P 0x41 0 4k"),
                List.of(
                        Op.write(64 * KIB, 576 * KIB, 0xC1),
                        Op.flush(),
                        Op.write(640 * KIB, 576 * KIB, 0xC2),
                        Op.flush(),
                        Op.write(1216 * KIB, 576 * KIB, 0xC3),
                        Op.flush(),
                        Op.write(1792 * KIB, 576 * KIB, 0xC4),
                        Op.flush(),
                        Op.zero(64 * KIB, 32 * KIB, true),
                        Op.write(2560 * KIB, 8 * KIB, 0xC5),
                        Op.flush(),
                        Op.write(3 * MIB, 16 * KIB, 0xC6)),
                List.of(0L));

        final String options;
        final long size;
        final boolean backing;
        final List<String> prepare;
        final List<Op> ops;
        final List<Long> probes;

        Scenario(String options, long size, boolean backing, List<String> prepare, List<Op> ops, List<Long> probes) {
            this.options = options;
            this.size = size;
            this.backing = backing;
            this.prepare = prepare;
            this.ops = ops;
            this.probes = probes;
        }
    }

    // ================================================================ the workloads themselves

    /**
     * The journal and the finished image show that each workload really does what it is meant to
     * exercise, that a clean run leaves a clean image, and that the model agrees with QEMU.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Scenario.class)
    void workloadAllocatesWhatItIsMeantToExerciseAndEndsClean(Scenario s) throws IOException {
        Prepared p = prepare(s);
        Recording r = record(p);
        Path finished = dir.resolve("finished.qcow2");
        runToEnd(p, finished);

        CheckResult check = qemu.check(finished);
        assertThat(check.isClean())
                .as("qemu-img check after a clean run:\n%s", check.describe())
                .isTrue();
        assertThat(p.model().problems(readWithQemu(p, finished), p.model().flushes() + 1))
                .as("guest content after a clean run")
                .isEmpty();
        assertThat(r.writes()).as("writes in the journal").isBetween(20, 400);
        assertThat(r.flushEnds()).hasSize(p.model().flushes());

        Qcow2Surgery.Header before = Qcow2Surgery.header(p.original());
        Qcow2Surgery.Header after = Qcow2Surgery.header(finished);
        ImageMutations.Layout layoutBefore = ImageMutations.layout(p.original());
        ImageMutations.Layout layoutAfter = ImageMutations.layout(finished);
        assertThat(layoutAfter.of(RegionKind.L2_TABLE).size())
                .as("L2 tables")
                .isGreaterThan(layoutBefore.of(RegionKind.L2_TABLE).size());
        switch (s) {
            case COW_OVER_BACKING_64K -> {
                assertThat(layoutBefore.of(RegionKind.COMPRESSED)).hasSize(3);
                assertThat(layoutAfter.of(RegionKind.COMPRESSED))
                        .as("compressed clusters left")
                        .isEmpty();
                assertThat(layoutAfter.of(RegionKind.ZERO_ALLOC))
                        .as("zero-allocated clusters")
                        .hasSize(1);
            }
            case V2_SMALL_CLUSTERS ->
                assertThat(layoutAfter.of(RegionKind.REFCOUNT_BLOCK).size())
                        .as("refcount blocks")
                        .isGreaterThan(
                                layoutBefore.of(RegionKind.REFCOUNT_BLOCK).size() + 2);
            case REFCOUNT_TABLE_GROWTH_512 -> {
                assertThat(after.refcountTableOffset())
                        .as("refcount table moved")
                        .isNotEqualTo(before.refcountTableOffset());
                assertThat(after.refcountTableClusters())
                        .as("refcount table clusters")
                        .isGreaterThan(before.refcountTableClusters());
            }
        }
    }

    // ================================================================ replayed crash points

    /**
     * A crash right after journal entry N, for every N: the first N entries replayed onto a copy
     * of the original. Checked with qemu-img check, the engine and qemu-img convert.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Scenario.class)
    void crashAfterAnyPrefixOfTheJournalLosesNoAcknowledgedWriteAndCorruptsNothing(Scenario s) throws IOException {
        Prepared p = prepare(s);
        Recording r = record(p);
        List<String> problems = new ArrayList<>();
        Path state = ImageMutations.copy(p.original(), dir.resolve("state.qcow2"));
        Inspection last = null;
        try (BlockFile target = FileChannelBlockFile.open(state, false, false)) {
            for (int n = 0; n <= r.entries().size() && problems.size() < MAX_PROBLEMS; n++) {
                JournalEntry entry = n == 0 ? null : r.entries().get(n - 1);
                if (entry != null && !(entry instanceof JournalEntry.Force)) {
                    replay(entry, target);
                    last = null;
                }
                if (last == null) {
                    last = inspect(p, state, true);
                }
                problems.addAll(last.problems(
                        p.model(),
                        r.completedFlushes(n),
                        "crash with journal[0, " + n + ") of " + r.entries().size() + " on disk (last: " + entry
                                + ")"));
            }
        }
        assertThat(problems)
                .as("crash points that lost acknowledged data or corrupted the image")
                .isEmpty();
    }

    /**
     * Unflushed writes may reach the disk in any order: for each run of writes between two
     * barriers, replay everything before it plus a subset of it (all subsets of short runs; for
     * longer runs each write alone, each write left out, and seeded random subsets).
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Scenario.class,
            names = {"COW_OVER_BACKING_64K", "V2_SMALL_CLUSTERS"})
    void crashWithAnySubsetOfTheWritesBetweenTwoBarriersIsSurvivable(Scenario s) throws IOException {
        checkEpochSubsets(s);
    }

    /**
     * The same while dozens of refcount blocks are created at once: a new block's refcount can
     * live in another new block, so linking the second before the first is durable leaves a
     * referenced cluster with refcount 0 (qcow2-notes §8.1 rule R1).
     */
    @Test
    void crashWithAnySubsetOfTheWritesBetweenTwoBarriersIsSurvivableWhileRefcountBlocksAreCreated() throws IOException {
        checkEpochSubsets(Scenario.REFCOUNT_TABLE_GROWTH_512);
    }

    private void checkEpochSubsets(Scenario s) throws IOException {
        Prepared p = prepare(s);
        Recording r = record(p);
        List<String> problems = new ArrayList<>();
        Random random = new Random(0xC4A5_0000L + s.ordinal());
        Path epochStart = ImageMutations.copy(p.original(), dir.resolve("epoch.qcow2"));
        Path state = dir.resolve("subset.qcow2");
        List<JournalEntry> entries = r.entries();
        int n = 0;
        int subsetsChecked = 0;
        try (BlockFile epochFile = FileChannelBlockFile.open(epochStart, false, false)) {
            while (n < entries.size() && problems.size() < MAX_PROBLEMS) {
                int start = n;
                List<Integer> writes = new ArrayList<>();
                while (n < entries.size() && !(entries.get(n) instanceof JournalEntry.Force)) {
                    writes.add(n++);
                }
                for (List<Integer> subset : subsets(writes.size(), random)) {
                    ImageMutations.copy(epochStart, state);
                    try (BlockFile target = FileChannelBlockFile.open(state, false, false)) {
                        for (int i : subset) {
                            replay(entries.get(writes.get(i)), target);
                        }
                    }
                    List<Integer> indices = subset.stream().map(writes::get).toList();
                    problems.addAll(inspect(p, state, false)
                            .problems(
                                    p.model(),
                                    r.completedFlushes(start),
                                    "crash with journal[0, " + start + ") plus entries " + indices
                                            + " of the epoch up to " + (n - 1) + " on disk"));
                    subsetsChecked++;
                }
                for (int i = start; i < n; i++) {
                    replay(entries.get(i), epochFile);
                }
                n++; // the barrier
            }
        }
        assertThat(problems)
                .as("crash states that lost acknowledged data or corrupted the image")
                .isEmpty();
        assertThat(subsetsChecked).as("subsets replayed").isPositive();
    }

    /** Proper, non-prefix subsets of {@code k} writes (prefixes are the other test's business). */
    private static List<List<Integer>> subsets(int k, Random random) {
        Set<List<Integer>> out = new LinkedHashSet<>();
        if (k <= 4) {
            for (int mask = 1; mask < (1 << k) - 1; mask++) {
                List<Integer> s = new ArrayList<>();
                for (int i = 0; i < k; i++) {
                    if ((mask & (1 << i)) != 0) {
                        s.add(i);
                    }
                }
                out.add(s);
            }
        } else {
            List<List<Integer>> candidates = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                List<Integer> allBut = new ArrayList<>();
                for (int j = 0; j < k; j++) {
                    if (j != i) {
                        allBut.add(j);
                    }
                }
                candidates.add(allBut);
                candidates.add(List.of(i));
            }
            java.util.Collections.shuffle(candidates, random);
            out.addAll(candidates.subList(0, Math.min(candidates.size(), SUBSETS_PER_EPOCH - 4)));
            for (int r = 0; r < 4; r++) {
                List<Integer> s = new ArrayList<>();
                for (int i = 0; i < k; i++) {
                    if (random.nextBoolean()) {
                        s.add(i);
                    }
                }
                out.add(s);
            }
        }
        out.removeIf(s -> isPrefix(s, k));
        return new ArrayList<>(out);
    }

    private static boolean isPrefix(List<Integer> s, int k) {
        for (int i = 0; i < s.size(); i++) {
            if (s.get(i) != i) {
                return false;
            }
        }
        return true;
    }

    // ================================================================ injected crash, then reopen

    /**
     * The direct form: the wrapper fails the N-th write with EIO and every write, force and
     * truncate after it (a crash point), for every N the workload reaches. The failing operation
     * must surface as a BlockIoException of kind IO_ERROR; the file, reopened without faults,
     * must be consistent and hold every acknowledged write, and (every third N) take new writes.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Scenario.class)
    void failingTheNthWriteWithEioForEveryNLeavesAConsistentImage(Scenario s) throws IOException {
        Prepared p = prepare(s);
        Recording r = record(p);
        List<String> problems = new ArrayList<>();
        Path state = dir.resolve("direct.qcow2");
        for (int n = 1; n <= r.writes() + 1 && problems.size() < MAX_PROBLEMS; n++) {
            ImageMutations.copy(p.original(), state);
            FaultInjectingBlockFile file = new FaultInjectingBlockFile(FileChannelBlockFile.open(state, false, false));
            file.crashAtWrite(n);
            int completed = 0;
            Throwable crash = null;
            String failedOp = "none";
            try (Image base = openBase(p)) {
                Image image = ImageOpener.open(file, ImageFormat.QCOW2);
                if (base != null) {
                    image.attachBacking(base::read);
                }
                for (Op op : s.ops) {
                    try {
                        op.applyTo(image);
                    } catch (RuntimeException e) {
                        crash = e;
                        failedOp = op.toString();
                        break;
                    }
                    if (op.kind() == CrashWorkload.OpKind.FLUSH) {
                        completed++;
                    }
                }
                Throwable onClose = catchThrowable(image::close);
                if (onClose != null && !(onClose instanceof BlockException)) {
                    problems.add("write " + n + ": close after the crash threw " + onClose);
                }
            } finally {
                file.close();
            }
            String label = "EIO from write " + n + " on (failed op: " + failedOp + ")";
            if (n <= r.writes()) {
                if (!(crash instanceof BlockIoException io) || io.kind() != BlockErrorKind.IO_ERROR) {
                    problems.add(label + ": the failure surfaced as " + crash + " instead of a BlockIoException "
                            + "of kind IO_ERROR");
                    continue;
                }
            } else if (crash != null) {
                problems.add("the workload failed although no write was made to fail: " + crash);
            }
            boolean sample = sampleQemuContent(n, r.writes() + 1);
            problems.addAll(inspect(p, state, sample).problems(p.model(), completed, label));
            if (sample) {
                problems.addAll(writeAgainAfterTheCrash(p, state, label));
            }
        }
        assertThat(problems)
                .as("crash points that lost acknowledged data or corrupted the image")
                .isEmpty();
    }

    /**
     * A transient EIO is not a crash: the N-th write fails once (for every N), the failed
     * operation surfaces as a BlockIoException of kind IO_ERROR and is retried once, as a guest
     * would. The retry must succeed, or the engine must refuse every further write with a
     * BlockException (fail-stop, handled as a crash). After a clean close the image must be
     * consistent and hold every write that succeeded.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Scenario.class,
            names = {"COW_OVER_BACKING_64K", "V2_SMALL_CLUSTERS"})
    void transientEioOnAnySingleWriteIsRetriedWithoutLossOrCorruption(Scenario s) throws IOException {
        checkTransientFailures(s);
    }

    /**
     * The same while the refcount table grows: an EIO half-way through the relocation (new
     * blocks, new table, header switch) must not leave the engine writing table entries for a
     * table the header does not name, or past the end of the one it does.
     */
    @Test
    void transientEioWhileTheRefcountTableGrowsIsRetriedWithoutLossOrCorruption() throws IOException {
        checkTransientFailures(Scenario.REFCOUNT_TABLE_GROWTH_512);
    }

    private void checkTransientFailures(Scenario s) throws IOException {
        Prepared p = prepare(s);
        Recording r = record(p);
        List<String> problems = new ArrayList<>();
        Path state = dir.resolve("transient.qcow2");
        for (int n = 1; n <= r.writes() && problems.size() < MAX_PROBLEMS; n++) {
            ImageMutations.copy(p.original(), state);
            FaultInjectingBlockFile file = new FaultInjectingBlockFile(FileChannelBlockFile.open(state, false, false));
            file.failWrite(n);
            int completed = 0;
            boolean stopped = false;
            String label = "transient EIO on write " + n;
            try (Image base = openBase(p)) {
                Image image = ImageOpener.open(file, ImageFormat.QCOW2);
                if (base != null) {
                    image.attachBacking(base::read);
                }
                for (Op op : s.ops) {
                    Throwable first = catchThrowable(() -> op.applyTo(image));
                    if (first != null) {
                        label += " (during " + op + ")";
                        if (!(first instanceof BlockIoException io) || io.kind() != BlockErrorKind.IO_ERROR) {
                            problems.add(label + ": surfaced as " + first + " instead of a BlockIoException of kind "
                                    + "IO_ERROR");
                        }
                        Throwable retry = catchThrowable(() -> op.applyTo(image));
                        if (retry != null) {
                            if (!(retry instanceof BlockException)) {
                                problems.add(label + ": the retry threw " + retry);
                            }
                            stopped = true;
                            break;
                        }
                    }
                    if (op.kind() == CrashWorkload.OpKind.FLUSH) {
                        completed++;
                    }
                }
                Throwable onClose = catchThrowable(image::close);
                if (onClose != null && !(stopped && onClose instanceof BlockException)) {
                    problems.add(label + ": close threw " + onClose);
                    stopped = true;
                }
            } finally {
                file.close();
            }
            int acknowledged = stopped ? completed : p.model().flushes() + 1;
            problems.addAll(inspect(p, state, sampleQemuContent(n, r.writes()))
                    .problems(
                            p.model(),
                            acknowledged,
                            label + (stopped ? " then fail-stop" : " then retried and closed")));
        }
        assertThat(problems)
                .as("transient failures that lost data or corrupted the image")
                .isEmpty();
    }

    /**
     * The engine goes on writing into what the crash left (leaked clusters, refcount blocks that
     * nothing links yet, a file longer than its metadata says): a new cluster, a flush and a
     * close give an image that is still consistent and reads the new data.
     */
    private List<String> writeAgainAfterTheCrash(Prepared p, Path state, String label) {
        long offset = p.scenario().size - 64 * KIB;
        byte[] data = new byte[4096];
        Arrays.fill(data, (byte) 0x99);
        try (Image base = openBase(p);
                Image image = ImageOpener.open(state, ImageFormat.QCOW2, false)) {
            if (base != null) {
                image.attachBacking(base::read);
            }
            image.write(offset, ByteBuffer.wrap(data));
            image.flush();
        } catch (RuntimeException e) {
            return List.of(label + ": writing into the reopened image failed: " + e);
        }
        List<String> out = new ArrayList<>();
        CheckResult check = qemu.check(state);
        if (!check.isCleanOrLeaksOnly()) {
            out.add(label + ", then a write after reopening: " + check.describe());
        }
        if (!qemu.readsPattern(state, offset, data.length, 0x99)) {
            out.add(label + ", then a write after reopening: the new data does not read back");
        }
        return out;
    }

    // ================================================================ error kinds

    @Test
    void failedDataWriteSurfacesAsBlockIoExceptionOfKindIoError() throws IOException {
        try (Harness h = harness()) {
            h.file().failWrite(1);
            Throwable thrown = catchThrowable(() -> h.image().write(0, ByteBuffer.allocate(4096)));
            assertIoError(thrown, BlockErrorKind.IO_ERROR);
            assertThat(thrown).hasMessageContaining(FaultRule.EIO);
        }
    }

    @Test
    void failedInPlaceOverwriteSurfacesAsBlockIoExceptionOfKindIoError() throws IOException {
        try (Harness h = harness()) {
            h.image().write(0, ByteBuffer.allocate(4096));
            h.image().flush();
            h.file().failWrite(1);
            assertIoError(
                    catchThrowable(() -> h.image().write(512, ByteBuffer.allocate(512))), BlockErrorKind.IO_ERROR);
        }
    }

    @Test
    void flushWhoseMetadataWriteFailsSurfacesAsBlockIoExceptionOfKindIoError() throws IOException {
        try (Harness h = harness()) {
            h.image().write(0, ByteBuffer.allocate(4096));
            h.file().failWrite(1);
            assertIoError(catchThrowable(() -> h.image().flush()), BlockErrorKind.IO_ERROR);
        }
    }

    @Test
    void flushWhoseFdatasyncFailsSurfacesAsBlockIoExceptionOfKindIoError() throws IOException {
        Path image = newImage("fsync.qcow2");
        ForceFailingFile file = new ForceFailingFile(FileChannelBlockFile.open(image, false, false));
        Image img = ImageOpener.open(file, ImageFormat.QCOW2);
        try {
            img.write(0, ByteBuffer.allocate(4096));
            file.failForces = true;
            assertIoError(catchThrowable(img::flush), BlockErrorKind.IO_ERROR);
        } finally {
            file.failForces = false;
            img.close();
        }
        assertThat(qemu.check(image).isCleanOrLeaksOnly()).isTrue();
    }

    @Test
    void fullDiskOnADataWriteSurfacesAsBlockIoExceptionOfKindNoSpace() throws IOException {
        try (Harness h = harness()) {
            h.file().noSpaceAfter(0);
            Throwable thrown = catchThrowable(() -> h.image().write(0, ByteBuffer.allocate(4096)));
            assertIoError(thrown, BlockErrorKind.NO_SPACE);
            assertThat(((BlockIoException) thrown).isNoSpace()).isTrue();
        }
    }

    @Test
    void fullDiskDuringAFlushSurfacesAsBlockIoExceptionOfKindNoSpace() throws IOException {
        try (Harness h = harness()) {
            h.image().write(0, ByteBuffer.allocate(4096));
            h.file().noSpaceAfter(0);
            assertIoError(catchThrowable(() -> h.image().flush()), BlockErrorKind.NO_SPACE);
        }
    }

    /**
     * A transient failure is not a crash: once the storage works again, the same image retries
     * the flush, and everything written before it is durable and consistent.
     */
    @Test
    void flushThatFailedOnceSucceedsWhenRetriedAndLosesNothing() throws IOException {
        Path image = newImage("retry.qcow2");
        FaultInjectingBlockFile file = new FaultInjectingBlockFile(FileChannelBlockFile.open(image, false, false));
        byte[] data = new byte[3 * 4096];
        Arrays.fill(data, (byte) 0x3C);
        try (Image img = ImageOpener.open(file, ImageFormat.QCOW2)) {
            img.write(100 * KIB, ByteBuffer.wrap(data));
            img.write(700 * MIB, ByteBuffer.wrap(data));
            for (int k = 1; k <= 3; k++) {
                FaultRule rule = file.failWrite(k);
                assertIoError(catchThrowable(img::flush), BlockErrorKind.IO_ERROR);
                file.removeRule(rule);
            }
            img.flush();
        }
        CheckResult check = qemu.check(image);
        assertThat(check.isCleanOrLeaksOnly()).as(check.describe()).isTrue();
        assertThat(qemu.readsPattern(image, 100 * KIB, data.length, 0x3C)).isTrue();
        assertThat(qemu.readsPattern(image, 700 * MIB, data.length, 0x3C)).isTrue();
    }

    private static void assertIoError(@Nullable Throwable thrown, BlockErrorKind kind) {
        assertThat(thrown).isInstanceOf(BlockIoException.class);
        assertThat(((BlockException) thrown).kind()).isEqualTo(kind);
    }

    /** An image made by qemu-img (1 GiB, 64 KiB clusters) opened over a fault injector. */
    private Harness harness() throws IOException {
        Path image = newImage("harness.qcow2");
        FaultInjectingBlockFile file = new FaultInjectingBlockFile(FileChannelBlockFile.open(image, false, false));
        return new Harness(file, ImageOpener.open(file, ImageFormat.QCOW2));
    }

    private Path newImage(String name) {
        Path image = dir.resolve(name);
        qemu.create(image, "qcow2", "1G");
        return image;
    }

    private record Harness(FaultInjectingBlockFile file, Image image) implements AutoCloseable {
        @Override
        public void close() {
            file.clearRules();
            image.close();
        }
    }

    /** fdatasync fails (EIO) while {@link #failForces} is set; everything else goes through. */
    private static final class ForceFailingFile implements BlockFile {
        private final BlockFile delegate;
        volatile boolean failForces;

        ForceFailingFile(BlockFile delegate) {
            this.delegate = delegate;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return delegate.read(dst, position);
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            delegate.write(src, position);
        }

        @Override
        public void force(boolean metadata) throws IOException {
            if (failForces) {
                throw new IOException(FaultRule.EIO);
            }
            delegate.force(metadata);
        }

        @Override
        public long size() throws IOException {
            return delegate.size();
        }

        @Override
        public void truncate(long size) throws IOException {
            delegate.truncate(size);
        }

        @Override
        public boolean isReadOnly() {
            return delegate.isReadOnly();
        }

        @Override
        public Path path() {
            return delegate.path();
        }

        @Override
        public void close() throws IOException {
            delegate.close();
        }
    }

    // ================================================================ preparation and recording

    /** The original files (made by QEMU, never modified) and the model of the workload. */
    record Prepared(
            Scenario scenario,
            Path original,
            @Nullable Path base,
            int clusterSize,
            TreeSet<Long> granules,
            CrashWorkload model) {}

    /** The journal of one clean run and where each flush ended in it. */
    record Recording(List<JournalEntry> entries, List<Integer> flushEnds, int writes) {

        /** Flushes complete in the state made of the first {@code n} entries. */
        int completedFlushes(int n) {
            int c = 0;
            while (c < flushEnds.size() && flushEnds.get(c) <= n) {
                c++;
            }
            return c;
        }
    }

    private Prepared prepare(Scenario s) {
        Path base = null;
        Path original = dir.resolve("top.orig.qcow2");
        if (s.backing) {
            base = dir.resolve("base.qcow2");
            qemu.create(base, "qcow2", "8M", "-o", "cluster_size=65536,compat=1.1");
            qemu.io(base, "qcow2", "write -P 0x11 0 4M");
            qemu.createOverlay(original, base, "-o", s.options + ",size=" + s.size);
        } else {
            qemu.create(original, "qcow2", Long.toString(s.size), "-o", s.options);
        }
        qemu.io(original, "qcow2", s.prepare.toArray(String[]::new));
        CheckResult check = qemu.check(original);
        assertThat(check.isClean()).as(check.describe()).isTrue();
        int clusterSize = Qcow2Surgery.header(original).clusterSize();
        TreeSet<Long> granules = CrashWorkload.granules(s.ops, s.probes);
        Map<Long, byte[]> initial = readRaw(original, granules);
        return new Prepared(s, original, base, clusterSize, granules, new CrashWorkload(s.ops, initial, clusterSize));
    }

    /** Runs the workload once over the fault injector (no faults) with the journal on. */
    private Recording record(Prepared p) throws IOException {
        Path work = ImageMutations.copy(p.original(), dir.resolve("recorded.qcow2"));
        FaultInjectingBlockFile file = new FaultInjectingBlockFile(FileChannelBlockFile.open(work, false, false));
        WriteJournal journal = file.startJournal();
        List<Integer> flushEnds = new ArrayList<>();
        try (Image base = openBase(p);
                Image image = ImageOpener.open(file, ImageFormat.QCOW2)) {
            if (base != null) {
                image.attachBacking(base::read);
            }
            for (Op op : p.scenario().ops) {
                op.applyTo(image);
                if (op.kind() == CrashWorkload.OpKind.FLUSH) {
                    flushEnds.add(journal.size());
                }
            }
            file.stopJournal();
        }
        List<JournalEntry> entries = journal.entries();
        assertThat(entries).as("journal").noneMatch(e -> e instanceof JournalEntry.Truncate);
        int writes = (int)
                entries.stream().filter(e -> e instanceof JournalEntry.Write).count();
        return new Recording(entries, List.copyOf(flushEnds), writes);
    }

    /** The whole workload and a clean close, on a copy of the original. */
    private void runToEnd(Prepared p, Path target) {
        ImageMutations.copy(p.original(), target);
        try (Image base = openBase(p);
                Image image = ImageOpener.open(target, ImageFormat.QCOW2, false)) {
            if (base != null) {
                image.attachBacking(base::read);
            }
            p.scenario().ops.forEach(op -> op.applyTo(image));
        }
    }

    private static @Nullable Image openBase(Prepared p) {
        return p.base() == null ? null : ImageOpener.open(p.base(), ImageFormat.QCOW2, true);
    }

    private static void replay(JournalEntry entry, BlockFile target) throws IOException {
        if (entry instanceof JournalEntry.Write || entry instanceof JournalEntry.Truncate) {
            entry.applyTo(target); // a Force changes nothing a test can see; skipping it skips an fsync
        }
    }

    // ================================================================ inspection of a crash state

    /**
     * Whether crash point {@code n} of {@code last} is also read through qemu-img convert. The
     * direct and transient forms leave the same on-disk states the replayed prefixes do (where
     * every state is read both ways), so there every third state and the last one are enough;
     * qemu-img check and the engine look at every state.
     */
    private static boolean sampleQemuContent(int n, int last) {
        return n % 3 == 0 || n == last;
    }

    /** What qemu-img check and the two readers make of one crash state. */
    record Inspection(
            CheckResult check,
            @Nullable Map<Long, byte[]> engine,
            @Nullable String engineError,
            @Nullable Map<Long, byte[]> qemu) {

        List<String> problems(CrashWorkload model, int completedFlushes, String label) {
            List<String> out = new ArrayList<>();
            if (!check.isCleanOrLeaksOnly()) {
                out.add(label + ": " + check.describe());
            }
            if (engineError != null) {
                out.add(label + ": the engine could not read the image: " + engineError);
            } else if (engine != null) {
                model.problems(engine, completedFlushes).forEach(m -> out.add(label + ", read by the engine: " + m));
            }
            if (qemu != null) {
                model.problems(qemu, completedFlushes).forEach(m -> out.add(label + ", read by qemu-img: " + m));
            }
            return out;
        }
    }

    private Inspection inspect(Prepared p, Path state, boolean withQemuContent) {
        CheckResult check = qemu.check(state);
        Map<Long, byte[]> engine = null;
        String engineError = null;
        try {
            engine = readWithEngine(state, p.granules());
        } catch (RuntimeException e) {
            engineError = e.toString();
        }
        Map<Long, byte[]> viaQemu = withQemuContent ? readWithQemu(p, state) : null;
        return new Inspection(check, engine, engineError, viaQemu);
    }

    private static Map<Long, byte[]> readWithEngine(Path image, Set<Long> granules) {
        Map<Long, byte[]> out = new HashMap<>();
        try (ImageChain chain =
                ImageChain.open(image, ImageFormat.QCOW2, (img, ref) -> img.resolveSibling(ref.fileName()), 4, true)) {
            for (long g : granules) {
                byte[] b = new byte[CrashWorkload.GRANULE];
                chain.read(g, ByteBuffer.wrap(b));
                out.put(g, b);
            }
        }
        return out;
    }

    private Map<Long, byte[]> readWithQemu(Prepared p, Path image) {
        return readRaw(image, p.granules());
    }

    /** The guest content of the granules, through {@code qemu-img convert -O raw} (sparse output). */
    private Map<Long, byte[]> readRaw(Path image, Set<Long> granules) {
        Path raw = dir.resolve("guest.raw");
        try {
            Files.deleteIfExists(raw);
            qemu.convertToRaw(image, raw);
            Map<Long, byte[]> out = new HashMap<>();
            try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ)) {
                for (long g : granules) {
                    ByteBuffer b = ByteBuffer.allocate(CrashWorkload.GRANULE);
                    while (b.hasRemaining() && ch.read(b, g + b.position()) >= 0) {
                        // read the granule; past the end of the raw file stays zero
                    }
                    out.put(g, b.array());
                }
            }
            Files.delete(raw);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
