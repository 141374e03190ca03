package dev.blockpull.format;

import static dev.blockpull.format.Interop.KIB;
import static dev.blockpull.format.Interop.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.testsupport.AssertImages;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.ChainShape;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.CheckResult;
import dev.blockpull.testsupport.Qcow2Surgery;
import dev.blockpull.testsupport.QemuPattern;
import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * The engine writes, QEMU judges (issue #2): images made by {@link ImageCreator} over the matrix
 * of creation options pass {@code qemu-img check} and show their options in {@code qemu-img info};
 * {@code qemu-io} writes into them and the engine reads that back; what the engine writes (seeded
 * random data, zero writes with and without unmap, overwrites, partial clusters copied on write
 * from a backing chain, growth past the first L2 table, refcount block and refcount table) reads
 * back identically through {@code qemu-img convert} and {@code qemu-img compare} against an
 * in-memory model, and {@code qemu-img check} finds neither corruption nor leaks once the image
 * is closed. The same for images made by {@code qemu-img} (v2, compressed clusters), and for
 * {@link Image#changeBackingFile}.
 */
class Qcow2WriteInteropTests {

    private static QemuTools qemu;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        qemu = QemuTools.require();
    }

    // ------------------------------------------------------------------ the option matrix

    /** Creation options, as {@link CreateOptions} and as {@code qemu-img create -o}. */
    record Options(int clusterSize, boolean v3, int refcountBits, boolean lazyRefcounts) {

        String compat() {
            return v3 ? "1.1" : "0.10";
        }

        CreateOptions create(long size, @Nullable BackingReference backing) {
            return CreateOptions.qcow2(size, backing)
                    .withClusterSize(clusterSize)
                    .withCompatV3(v3)
                    .withRefcountBits(refcountBits)
                    .withLazyRefcounts(lazyRefcounts);
        }

        String qemuOptions() {
            return "cluster_size=" + clusterSize + ",compat=" + compat() + ",refcount_bits=" + refcountBits
                    + (lazyRefcounts ? ",lazy_refcounts=on" : "");
        }

        @Override
        public String toString() {
            return qemuOptions();
        }
    }

    /**
     * Full cross of compat x refcount_bits for 64 KiB clusters, a representative subset for
     * 512 B, 4 KiB and 2 MiB, and lazy refcounts.
     */
    static Stream<Options> matrix() {
        return Stream.of(
                new Options(65536, true, 1, false),
                new Options(65536, true, 16, false),
                new Options(65536, true, 64, false),
                new Options(65536, false, 16, false),
                new Options(512, true, 1, false),
                new Options(512, true, 64, false),
                new Options(512, false, 16, false),
                new Options(4096, true, 16, false),
                new Options(4096, true, 2, false),
                new Options(4096, false, 16, false),
                new Options(2 * (int) MIB, true, 16, false),
                new Options(2 * (int) MIB, true, 8, false),
                new Options(2 * (int) MIB, false, 16, false),
                new Options(65536, true, 16, true),
                new Options(512, true, 16, true));
    }

    private static long seed(Options o) {
        return Objects.hash(o.clusterSize(), o.v3(), o.refcountBits(), o.lazyRefcounts());
    }

    private static long sizeFor(Options o) {
        return Math.max(4 * MIB, 8L * o.clusterSize());
    }

    // ------------------------------------------------------------------ creation

    @ParameterizedTest(name = "{0}")
    @MethodSource("matrix")
    void createdImagePassesCheckAndQemuImgInfoShowsItsOptions(Options o) {
        Path image = dir.resolve("new.qcow2");
        ImageCreator.create(image, o.create(sizeFor(o), null));

        AssertImages.assertCheckClean(image);
        JsonNode info = qemu.info(image);
        JsonNode data = info.path("format-specific").path("data");
        assertThat(info.path("virtual-size").asLong()).isEqualTo(sizeFor(o));
        assertThat(info.path("cluster-size").asLong()).isEqualTo(o.clusterSize());
        assertThat(data.path("compat").asString()).isEqualTo(o.compat());
        assertThat(data.path("refcount-bits").asInt()).isEqualTo(o.refcountBits());
        assertThat(data.path("lazy-refcounts").asBoolean(false)).isEqualTo(o.lazyRefcounts());
        assertThat(data.path("compression-type").asString()).isEqualTo("zlib");
        assertThat(info.has("backing-filename")).isFalse();
        AssertImages.assertNotDirtyNorCorrupt(image);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("matrix")
    void createdImageIsLaidOutLikeQemuImgCreate(Options o) {
        Path ours = dir.resolve("ours.qcow2");
        Path theirs = dir.resolve("theirs.qcow2");
        ImageCreator.create(ours, o.create(sizeFor(o), null));
        qemu.create(theirs, "qcow2", Long.toString(sizeFor(o)), "-o", o.qemuOptions());

        assertThat(Interop.readAll(ours))
                .as("file made by ImageCreator vs qemu-img create -o %s", o)
                .isEqualTo(Interop.readAll(theirs));
    }

    static Stream<Arguments> backings() {
        return Stream.of(
                Arguments.of("qcow2", new Options(65536, true, 16, false)),
                Arguments.of("raw", new Options(4096, false, 16, false)),
                Arguments.of("qcow2", new Options(512, true, 1, true)));
    }

    @ParameterizedTest(name = "{0} backing, {1}")
    @MethodSource("backings")
    void createdOverlayRecordsItsBackingFileAndFormat(String backingFormat, Options o) {
        Path base = dir.resolve("base." + backingFormat);
        qemu.create(base, backingFormat, "4M");
        qemu.io(base, backingFormat, QemuPattern.write(MIB, 64 * KIB, 0x5a));
        Path top = dir.resolve("top.qcow2");
        ImageCreator.create(
                top,
                o.create(
                        4 * MIB,
                        new BackingReference(base.getFileName().toString(), ImageFormat.parse(backingFormat))));

        AssertImages.assertCheckClean(top);
        AssertImages.assertBacking(top, base.getFileName().toString(), backingFormat);
        AssertImages.assertChainLength(top, 2);
        AssertImages.assertSameContent(base, top);
        try (ImageChain chain = Interop.openChain(top, true)) {
            assertThat(chain.layers()).hasSize(2);
            assertThat(chain.top().backing())
                    .contains(new BackingReference(base.getFileName().toString(), ImageFormat.parse(backingFormat)));
        }
    }

    // ------------------------------------------------------------------ qemu-io writes into our images

    @ParameterizedTest(name = "{0}")
    @MethodSource("matrix")
    void qemuIoWritesIntoOurImagesReadBackThroughTheEngine(Options o) {
        Chain base = Chains.in(qemu, dir)
                .base("base.qcow2", "qcow2", sizeFor(o))
                .write(0, sizeFor(o), 0x11)
                .build();
        Path top = dir.resolve("top.qcow2");
        long c = o.clusterSize();
        long size = sizeFor(o);
        ImageCreator.create(top, o.create(size, new BackingReference("base.qcow2", ImageFormat.QCOW2)));
        byte[] model = base.expected();

        List<String> commands = new ArrayList<>();
        commands.add(QemuPattern.write(c / 2, c, 0x21));
        QemuPattern.fill(model, c / 2, c, 0x21);
        commands.add(QemuPattern.write(3 * c, 2 * c, 0x22));
        QemuPattern.fill(model, 3 * c, 2 * c, 0x22);
        commands.add(QemuPattern.zero(3 * c, c));
        QemuPattern.zero(model, 3 * c, c);
        commands.add(QemuPattern.zeroUnmap(4 * c, c));
        QemuPattern.zero(model, 4 * c, c);
        commands.add(QemuPattern.zero(6 * c + c / 8, c / 2));
        QemuPattern.zero(model, 6 * c + c / 8, c / 2);
        commands.add(QemuPattern.writeCompressed(7 * c, c, 0x23));
        QemuPattern.fill(model, 7 * c, c, 0x23);
        commands.add(QemuPattern.write(size - 700, 700, 0x24));
        QemuPattern.fill(model, size - 700, 700, 0x24);
        qemu.io(top, "qcow2", commands.toArray(String[]::new));

        AssertImages.assertCheckClean(top);
        AssertImages.assertContent(top, model);
        Interop.assertSameBytes(Interop.readChain(top), model, "engine's view of our image after qemu-io");
        try (ImageChain chain = Interop.openChain(top, true)) {
            Interop.assertSameMap(Interop.engineMap(chain), Interop.qemuMap(qemu, top), "chain after qemu-io");
        }
    }

    // ------------------------------------------------------------------ the engine writes, qemu reads

    @ParameterizedTest(name = "{0}")
    @MethodSource("matrix")
    void randomEngineWritesReadBackThroughQemu(Options o) {
        Path image = dir.resolve("random.qcow2");
        long size = sizeFor(o);
        ImageCreator.create(image, o.create(size, null));
        byte[] model = new byte[(int) size];

        try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, false)) {
            randomOps(img, model, new Random(seed(o)), 150, (int) Math.min(3L * o.clusterSize(), 300 * KIB));
        }

        assertCleanAndHolds(image, model);
        try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, true)) {
            Interop.assertSameBytes(Interop.read(img), model, "engine's view after reopening");
            Interop.assertSameMap(
                    Interop.engineLayerMap(img), Interop.qemuLayerMap(qemu, image), "block status after random writes");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("matrix")
    void engineWritesIntoImagesMadeByQemu(Options o) {
        long size = sizeFor(o);
        long c = o.clusterSize();
        Chain chain = Chains.in(qemu, dir)
                .base("qemu.qcow2", "qcow2", size)
                .clusterSize(o.clusterSize())
                .compat(o.compat())
                .option("refcount_bits=" + o.refcountBits())
                .option("lazy_refcounts=" + (o.lazyRefcounts() ? "on" : "off"))
                .write(0, 4 * c, 0x11)
                .writeCompressed(4 * c, 2 * c, 0x12)
                .write(6 * c, c, 0x13)
                .zero(6 * c, c)
                .write(size - 2 * c, 2 * c, 0x14)
                .build();
        byte[] model = chain.expected();

        try (Image img = ImageOpener.open(chain.top(), ImageFormat.QCOW2, false)) {
            randomOps(img, model, new Random(~seed(o)), 100, (int) Math.min(3 * c, 300 * KIB));
            write(img, model, 4 * c + 10, bytes(new Random(1), 100));
            write(img, model, 6 * c + c / 2, bytes(new Random(2), (int) c / 4));
        }

        assertCleanAndHolds(chain.top(), model);
    }

    /**
     * With 512 B clusters and 64-bit refcounts one L2 table maps 32 KiB, one refcount block
     * covers 32 KiB of file and the one-cluster refcount table 2 MiB: 3 MiB of data needs many L2
     * tables and refcount blocks, and a larger refcount table somewhere else.
     */
    @Test
    void writesOutgrowTheFirstL2TableRefcountBlockAndRefcountTable() {
        Options o = new Options(512, true, 64, false);
        Path image = dir.resolve("grow.qcow2");
        ImageCreator.create(image, o.create(8 * MIB, null));
        long tableBefore = Qcow2Surgery.header(image).refcountTableOffset();
        byte[] model = new byte[(int) (8 * MIB)];
        Random rnd = new Random(7);

        try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, false)) {
            for (long pos = 0; pos < 3 * MIB; ) {
                int len = 1 + rnd.nextInt((int) (96 * KIB));
                write(img, model, pos, bytes(rnd, len));
                pos += len + rnd.nextInt(4096);
            }
            img.writeZeroes(MIB + 3, 200 * KIB, true);
            QemuPattern.zero(model, MIB + 3, 200 * KIB);
        }

        Qcow2Surgery.Header after = Qcow2Surgery.header(image);
        assertThat(after.refcountTableOffset()).as("the refcount table moved").isNotEqualTo(tableBefore);
        assertThat(after.refcountTableClusters()).as("the refcount table grew").isGreaterThan(1);
        assertThat(Qcow2Surgery.l2EntryPosition(image, 3 * MIB - 1))
                .as("an L2 table maps the last write")
                .isPositive();
        assertCleanAndHolds(image, model);
    }

    /**
     * With 512 B clusters one L2 table maps 32 KiB: writes scattered over 32 MiB touch about a
     * thousand L2 tables, more than the engine caches, so dirty tables are evicted (and the
     * metadata flushed) in the middle of the run.
     */
    @Test
    void writesScatteredOverMoreL2TablesThanTheCacheHoldsStayConsistent() {
        Path image = dir.resolve("scattered.qcow2");
        long size = 32 * MIB;
        ImageCreator.create(image, new Options(512, true, 16, false).create(size, null));
        byte[] model = new byte[(int) size];
        Random rnd = new Random(5);

        try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, false)) {
            for (int i = 0; i < 1500; i++) {
                long offset = rnd.nextLong(size - 2048);
                if (i % 10 == 9) {
                    img.writeZeroes(offset & -512L, 1024, rnd.nextBoolean());
                    QemuPattern.zero(model, offset & -512L, 1024);
                } else {
                    write(img, model, offset, bytes(rnd, 1 + rnd.nextInt(2000)));
                }
            }
            Interop.assertSameBytes(Interop.read(img), model, "engine's view while open");
        }

        assertCleanAndHolds(image, model);
    }

    // ------------------------------------------------------------------ copy-on-write over a chain

    static Stream<Arguments> cowCases() {
        Options v3 = new Options(65536, true, 16, false);
        return Stream.of(
                Arguments.of("64k top over the standard chain", ChainShape.standard(), v3),
                Arguments.of(
                        "4k top over a 1M mid",
                        ChainShape.standard().withShortMid(MIB),
                        new Options(4096, true, 16, false)),
                Arguments.of(
                        "512 top over 64k/2M layers",
                        ChainShape.standard().withClusterSizes(2 * (int) MIB, 65536, 65536),
                        new Options(512, true, 1, false)),
                Arguments.of(
                        "2M top over 512/4k layers",
                        ChainShape.standard().withClusterSizes(512, 4096, 4096).withShortMid(MIB + 512 * 3),
                        new Options(2 * (int) MIB, true, 16, false)),
                Arguments.of(
                        "v2 top over a v2 chain with a raw base",
                        ChainShape.standard().withCompat("0.10").withRawBase(),
                        new Options(65536, false, 16, false)),
                Arguments.of(
                        "lazy 64k top over mixed layers",
                        ChainShape.standard().withClusterSizes(4096, 512, 65536),
                        new Options(65536, true, 16, true)));
    }

    /**
     * A fourth layer made by the engine on the chain of {@link Chains#baseMidTop} (whose
     * {@code top.qcow2} becomes its backing file): partial-cluster writes and zero writes everywhere,
     * so the untouched parts of every new cluster are copied from the backing chain, through
     * short layers, compressed clusters and zero clusters below.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cowCases")
    void partialWritesOverABackingChainCopyTheRestFromIt(String name, ChainShape shape, Options o) {
        Chain below = Chains.baseMidTop(qemu, dir, shape);
        Path top = dir.resolve("ours.qcow2");
        ImageCreator.create(top, o.create(shape.size(), new BackingReference("top.qcow2", ImageFormat.QCOW2)));
        byte[] model = Arrays.copyOf(below.expected(), (int) shape.size());
        Random rnd = new Random(name.hashCode());

        try (ImageChain chain = Interop.openChain(top, false)) {
            assertThat(chain.layers()).hasSize(4);
            Image img = chain.top();
            for (int i = 0; i < 60; i++) {
                long offset = rnd.nextLong(shape.size() - 1);
                int len = (int) Math.min(shape.size() - offset, 1 + rnd.nextInt(3 * 4096));
                if (i % 5 == 4) {
                    img.writeZeroes(offset, len, rnd.nextBoolean());
                    QemuPattern.zero(model, offset, len);
                } else {
                    write(img, model, offset, bytes(rnd, len));
                }
            }
            // Around the end of the short middle layer and at the very end.
            write(img, model, MIB - 100, bytes(rnd, 200));
            write(img, model, shape.size() - 10, bytes(rnd, 10));
            Interop.assertSameBytes(Interop.read(chain), model, "engine's view while open");
        }

        assertCleanAndHolds(top, model);
        if (shape.baseFormat().equals("qcow2") && shape.midSize() == shape.size()) {
            // A sparse raw base maps differently by design (see Qcow2ReadInteropTests), and short
            // layers have their own map test there: content only for those.
            try (ImageChain chain = Interop.openChain(top, true)) {
                Interop.assertSameMap(
                        Interop.engineMap(chain), Interop.qemuMap(qemu, top), "chain after copy-on-write");
            }
        }
    }

    // ------------------------------------------------------------------ compressed clusters

    @Test
    void overwritingPartOfAZlibCompressedClusterKeepsTheRestAndLeaksNothing() {
        assertCompressedClustersTakeOverwrites("zlib");
    }

    /** Needs the zstd decoder to stop at the end of the frame: see Qcow2ReadInteropTests. */
    @Test
    void overwritingPartOfAZstdCompressedClusterKeepsTheRestAndLeaksNothing() {
        assertCompressedClustersTakeOverwrites("zstd");
    }

    /**
     * Inside one compressed cluster, across two, a whole one, zeroed with and without unmap, a
     * few bytes zeroed: the untouched bytes come from the decompressed cluster, and the
     * references to the shared host clusters of the packed compressed data are dropped exactly
     * once (no leak, no refcount below the references).
     */
    private void assertCompressedClustersTakeOverwrites(String compression) {
        int c = 65536;
        byte[] source = new byte[(int) (2 * MIB)];
        for (int i = 0; i < source.length / c; i++) {
            Arrays.fill(source, i * c, (i + 1) * c, (byte) (0x30 + i));
            source[i * c + 77] = (byte) i;
        }
        Path raw = Interop.writeRaw(dir.resolve("source.raw"), source);
        Path image = dir.resolve("compressed.qcow2");
        qemu.convert(
                "-c",
                "-f",
                "raw",
                "-O",
                "qcow2",
                "-o",
                "compression_type=" + compression,
                raw.toString(),
                image.toString());
        assertThat(qemu.check(image).output()).contains("compressed-clusters");
        byte[] model = source.clone();
        Random rnd = new Random(11);

        try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, false)) {
            write(img, model, c + 1000, bytes(rnd, 100)); // inside one compressed cluster
            write(img, model, 3L * c - 50, bytes(rnd, 100)); // across two of them
            write(img, model, 5L * c, bytes(rnd, c)); // a whole one
            img.writeZeroes(7L * c, c, false); // zeroed, no unmap
            QemuPattern.zero(model, 7L * c, c);
            img.writeZeroes(8L * c, 2L * c, true); // zeroed with unmap
            QemuPattern.zero(model, 8L * c, 2L * c);
            img.writeZeroes(11L * c + 5, 10, true); // a few bytes of one
            QemuPattern.zero(model, 11L * c + 5, 10);
            Interop.assertSameBytes(Interop.read(img), model, "engine's view while open");
        }

        assertCleanAndHolds(image, model);
    }

    // ------------------------------------------------------------------ v2

    @Test
    void zeroWritesIntoAV2OverlayMaskTheBackingWithZeroData() {
        Chain chain = Chains.in(qemu, dir)
                .base("base.qcow2", "qcow2", 4 * MIB)
                .compat("0.10")
                .write(0, 4 * MIB, 0x11)
                .overlay("top.qcow2")
                .compat("0.10")
                .write(MIB, 64 * KIB, 0x21)
                .build();
        byte[] model = chain.expected();

        try (ImageChain ours = Interop.openChain(chain.top(), false)) {
            ours.top().writeZeroes(0, 128 * KIB, true);
            ours.top().writeZeroes(MIB, 64 * KIB, false);
            ours.top().writeZeroes(2 * MIB + 100, 1000, true);
        }
        QemuPattern.zero(model, 0, 128 * KIB);
        QemuPattern.zero(model, MIB, 64 * KIB);
        QemuPattern.zero(model, 2 * MIB + 100, 1000);

        assertCleanAndHolds(chain.top(), model);
        assertThat(Interop.qemuMap(qemu, chain.top()))
                .as("v2 has no zero clusters: the zeros are data in the top")
                .anyMatch(r -> r.start() == 0 && r.length() >= 128 * KIB && r.depth() == 0 && r.data());
    }

    // ------------------------------------------------------------------ changing the backing file

    /** An overlay (made by us or by QEMU) of base.qcow2, and a copy of it to run qemu-img rebase -u on. */
    private Path overlayOfBase(boolean madeByQemu, int clusterSize) {
        Chains.in(qemu, dir)
                .base("base.qcow2", "qcow2", 4 * MIB)
                .write(0, 4 * MIB, 0x11)
                .build();
        Path top = dir.resolve("top.qcow2");
        if (madeByQemu) {
            qemu.createOverlay(top, dir.resolve("base.qcow2"), "-o", "cluster_size=" + clusterSize);
        } else {
            ImageCreator.create(
                    top,
                    CreateOptions.qcow2(4 * MIB, new BackingReference("base.qcow2", ImageFormat.QCOW2))
                            .withClusterSize(clusterSize));
        }
        qemu.io(top, "qcow2", QemuPattern.write(MIB, 64 * KIB, 0x22));
        return top;
    }

    private Path copy(Path file, String name) {
        try {
            return Files.copy(file, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void changeBacking(Path image, @Nullable BackingReference ref) {
        try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, false)) {
            img.changeBackingFile(ref);
        }
    }

    @ParameterizedTest(name = "made by qemu: {0}")
    @ValueSource(booleans = {true, false})
    void renamingTheBackingFileRewritesTheHeaderAsQemuImgRebaseDoes(boolean madeByQemu) {
        Path top = overlayOfBase(madeByQemu, 65536);
        Path theirs = copy(top, "theirs.qcow2");
        copy(dir.resolve("base.qcow2"), "renamed-base.qcow2");

        changeBacking(top, new BackingReference("renamed-base.qcow2", ImageFormat.QCOW2));
        qemu.rebaseUnsafe(theirs, "renamed-base.qcow2", "qcow2");

        AssertImages.assertBacking(top, "renamed-base.qcow2", "qcow2");
        AssertImages.assertCheckClean(top);
        AssertImages.assertChainLength(top, 2);
        AssertImages.assertSameContent(top, theirs);
        assertThat(Interop.head(top, 65536))
                .as("cluster 0 vs qemu-img rebase -u")
                .isEqualTo(Interop.head(theirs, 65536));
    }

    @Test
    void changingTheBackingFormatToRawIsWhatQemuImgInfoShows() {
        Path top = overlayOfBase(false, 65536);
        qemu.convert(
                "-f",
                "qcow2",
                "-O",
                "raw",
                dir.resolve("base.qcow2").toString(),
                dir.resolve("base.raw").toString());
        Path theirs = copy(top, "theirs.qcow2");

        changeBacking(top, new BackingReference("base.raw", ImageFormat.RAW));
        qemu.rebaseUnsafe(theirs, "base.raw", "raw");

        AssertImages.assertBacking(top, "base.raw", "raw");
        AssertImages.assertCheckClean(top);
        AssertImages.assertSameContent(top, theirs);
        assertThat(Interop.head(top, 65536))
                .as("cluster 0 vs qemu-img rebase -u")
                .isEqualTo(Interop.head(theirs, 65536));
        try (ImageChain chain = Interop.openChain(top, true)) {
            assertThat(chain.layers()).extracting(Image::format).containsExactly(ImageFormat.QCOW2, ImageFormat.RAW);
        }
    }

    @ParameterizedTest(name = "made by qemu: {0}")
    @ValueSource(booleans = {true, false})
    void removingTheBackingFileRewritesTheHeaderAsQemuImgRebaseDoes(boolean madeByQemu) {
        Path top = overlayOfBase(madeByQemu, 65536);
        Path theirs = copy(top, "theirs.qcow2");

        changeBacking(top, null);
        qemu.rebaseUnsafe(theirs, null, null);

        AssertImages.assertBacking(top, null, null);
        AssertImages.assertCheckClean(top);
        AssertImages.assertChainLength(top, 1);
        AssertImages.assertSameContent(top, theirs);
        assertThat(Interop.head(top, 65536))
                .as("cluster 0 vs qemu-img rebase -u -b ''")
                .isEqualTo(Interop.head(theirs, 65536));
        try (ImageChain chain = Interop.openChain(top, true)) {
            assertThat(chain.layers()).hasSize(1);
            assertThat(chain.top().backing()).isEmpty();
        }
    }

    /**
     * 512 B clusters, backing format {@code qcow2}: 512 - 112 (header) - 16 (format extension) - 8
     * (end marker) leaves 376 bytes for the name (qcow2-notes §9.1); 64 KiB clusters: the 1023-byte
     * cap. One byte more is refused like {@code qemu-img rebase -u} refuses it, and nothing changes.
     */
    @ParameterizedTest(name = "cluster size {0}, longest name {1}")
    @MethodSource("nameLimits")
    void aBackingNameThatDoesNotFitIsRefusedAndLeavesTheImageUnchanged(int clusterSize, int longest) {
        Path top = overlayOfBase(false, clusterSize);
        byte[] before = Interop.readAll(top);
        String tooLong = "b".repeat(longest + 1 - ".qcow2".length()) + ".qcow2";

        assertThatThrownBy(() -> changeBacking(top, new BackingReference(tooLong, ImageFormat.QCOW2)))
                .isInstanceOf(BlockException.class)
                .satisfies(e -> assertThat(((BlockException) e).kind()).isEqualTo(BlockErrorKind.INVALID_ARGUMENT))
                .hasMessageContaining("No space left in the file header");
        assertThat(Interop.readAll(top)).as("the image is unchanged").isEqualTo(before);
        AssertImages.assertBacking(top, "base.qcow2", "qcow2");
        Path copy = copy(top, "q.qcow2");
        assertThat(qemu.qemuImg("rebase", "-u", "-f", "qcow2", "-b", tooLong, "-F", "qcow2", copy.toString())
                        .exitCode())
                .as("qemu-img refuses the same name")
                .isNotZero();

        String longestName = longName("base.qcow2", longest);
        changeBacking(top, new BackingReference(longestName, ImageFormat.QCOW2));
        AssertImages.assertBacking(top, longestName, "qcow2");
        AssertImages.assertCheckClean(top);
        AssertImages.assertChainLength(top, 2);
        try (ImageChain chain = Interop.openChain(top, true)) {
            assertThat(chain.top().backing()).contains(new BackingReference(longestName, ImageFormat.QCOW2));
            assertThat(chain.layers()).hasSize(2);
        }
    }

    /**
     * A name of exactly {@code length} bytes for {@code file} in the same directory, made of
     * {@code ./} segments (a file name itself may not exceed 255 bytes).
     */
    private static String longName(String file, int length) {
        int pad = length - file.length();
        return (pad % 2 == 1 ? ".//" + "./".repeat((pad - 3) / 2) : "./".repeat(pad / 2)) + file;
    }

    static Stream<Arguments> nameLimits() {
        return Stream.of(Arguments.of(512, 376), Arguments.of(65536, 1023));
    }

    // ------------------------------------------------------------------ helpers

    /** Seeded random writes, zero writes with and without unmap, overwrites and flushes, mirrored in {@code model}. */
    private static void randomOps(Image img, byte[] model, Random rnd, int ops, int maxLength) {
        int cs = img.clusterSize();
        List<long[]> written = new ArrayList<>();
        for (int i = 0; i < ops; i++) {
            int len = 1 + rnd.nextInt(maxLength);
            long offset = rnd.nextLong(model.length - len + 1);
            if (rnd.nextInt(3) == 0) {
                offset = offset & -(long) cs;
                len = (int) Math.min(model.length - offset, Math.max(cs, (long) len & -(long) cs));
            }
            switch (rnd.nextInt(10)) {
                case 0, 1, 2, 3, 4 -> {
                    write(img, model, offset, bytes(rnd, len));
                    written.add(new long[] {offset, len});
                }
                case 5, 6 -> {
                    img.writeZeroes(offset, len, false);
                    QemuPattern.zero(model, offset, len);
                }
                case 7 -> {
                    img.writeZeroes(offset, len, true);
                    QemuPattern.zero(model, offset, len);
                }
                case 8 -> {
                    if (!written.isEmpty()) {
                        long[] again = written.get(rnd.nextInt(written.size()));
                        write(img, model, again[0], bytes(rnd, (int) again[1]));
                    }
                }
                default -> img.flush();
            }
        }
    }

    private static void write(Image img, byte[] model, long offset, byte[] data) {
        img.write(offset, ByteBuffer.wrap(data));
        System.arraycopy(data, 0, model, (int) offset, data.length);
    }

    private static byte[] bytes(Random rnd, int length) {
        byte[] b = new byte[length];
        rnd.nextBytes(b);
        return b;
    }

    /**
     * After close: {@code qemu-img check} finds no corruption and no leak, the image is neither
     * dirty nor corrupt, and {@code qemu-img convert} and {@code qemu-img compare} see the model.
     */
    private void assertCleanAndHolds(Path image, byte[] model) {
        CheckResult check = AssertImages.assertCheckClean(image);
        assertThat(check.leaks()).isZero();
        AssertImages.assertNotDirtyNorCorrupt(image);
        AssertImages.assertContent(image, model);
        AssertImages.assertSameContent(
                Interop.writeRaw(dir.resolve(image.getFileName() + ".expected.raw"), model), image);
    }
}
