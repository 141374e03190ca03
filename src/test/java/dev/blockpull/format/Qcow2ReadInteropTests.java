package dev.blockpull.format;

import static dev.blockpull.format.Interop.KIB;
import static dev.blockpull.format.Interop.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.blockpull.format.Interop.Run;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.UnsupportedFeatureException;
import dev.blockpull.testsupport.AssertImages;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.ChainShape;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.Qcow2Surgery;
import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * QEMU writes, the engine reads (issue #2): images and chains made by {@code qemu-img create} and
 * planted with {@code qemu-io} ({@code write -P}, {@code write -z}, {@code write -z -u},
 * {@code write -c}, {@code discard}) or made by {@code qemu-img convert -c}, over a matrix of
 * creation options. For each, the engine's guest view equals both the expected model and
 * {@code qemu-img convert -O raw}, and the engine's block status equals
 * {@code qemu-img map --output=json}, for the whole chain ({@link ImageChain#map}) and for every
 * qcow2 layer on its own ({@link Image#blockStatus} against the layer opened with
 * {@code "backing": null}). Both maps are merged by QEMU's own rule before comparing.
 *
 * <p>Raw layers: QEMU reports the holes of a sparse raw file as {@code zero: true, data: false},
 * while the raw driver reports every byte as data (it never probes for holes). Chains over a sparse
 * raw base are therefore compared by content only; maps are compared on a fully written raw base.
 */
class Qcow2ReadInteropTests {

    private static QemuTools qemu;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        qemu = QemuTools.require();
    }

    // ------------------------------------------------------------------ the option matrix

    /** {@code qemu-img create -o cluster_size=..,compat=..,refcount_bits=..}. */
    record Options(int clusterSize, String compat, int refcountBits) {

        boolean v3() {
            return compat.equals("1.1");
        }

        @Override
        public String toString() {
            String cs = clusterSize >= MIB
                    ? clusterSize / MIB + "M"
                    : clusterSize >= KIB ? clusterSize / KIB + "k" : Integer.toString(clusterSize);
            return "cluster_size=" + cs + ",compat=" + compat + ",refcount_bits=" + refcountBits;
        }
    }

    /**
     * The full cross of compat x refcount_bits for 64 KiB clusters (compat=0.10 allows only
     * 16-bit refcounts), and a representative subset for 512 B, 4 KiB and 2 MiB clusters.
     */
    static Stream<Options> matrix() {
        return Stream.of(
                new Options(65536, "1.1", 1),
                new Options(65536, "1.1", 16),
                new Options(65536, "1.1", 64),
                new Options(65536, "0.10", 16),
                new Options(512, "1.1", 1),
                new Options(512, "1.1", 64),
                new Options(512, "0.10", 16),
                new Options(4096, "1.1", 16),
                new Options(4096, "1.1", 64),
                new Options(4096, "0.10", 16),
                new Options(2 * (int) MIB, "1.1", 16),
                new Options(2 * (int) MIB, "1.1", 1),
                new Options(2 * (int) MIB, "0.10", 16));
    }

    /** A planted chain and the expected guest view of its top (the model plus the discard). */
    private record Planted(Chain chain, byte[] expectedTop) {}

    private static Chains.Builder withOptions(Chains.Builder b, Options o) {
        return b.clusterSize(o.clusterSize()).compat(o.compat()).option("refcount_bits=" + o.refcountBits());
    }

    /**
     * {@code base <- mid <- top}, all three with the same options, sized so that every case spans
     * many L2 tables with 512 B clusters. Offsets are in clusters ({@code c}): data in every layer,
     * partial-cluster and unaligned writes over data below, zero writes with and without unmap
     * over data below (ZERO_PLAIN / ZERO_ALLOC in v3, zero data in v2), compressed clusters, a zero
     * and a partial write over a compressed cluster, and a {@code discard} in the top.
     */
    private Planted plant(Options o) {
        long c = o.clusterSize();
        long size = Math.max(4 * MIB, 16 * c);
        Chains.Builder b = withOptions(Chains.in(qemu, dir).base("base.qcow2", "qcow2", size), o)
                .write(0, 2 * c, 0x11)
                .write(3 * c, c, 0x12)
                .writeCompressed(5 * c, 2 * c, 0x13)
                .write(8 * c, c, 0x14)
                .write(14 * c, 2 * c, 0x16)
                .write(size - c, c, 0x15);
        withOptions(b.overlay("mid.qcow2"), o)
                .write(c / 2, c, 0x21)
                .zero(3 * c, c)
                .zeroUnmap(8 * c, c)
                .write(10 * c + 123, 1000, 0x22)
                .write(size - c - 512, 1024, 0x23);
        withOptions(b.overlay("top.qcow2"), o)
                .write(2 * c, c, 0x31)
                .zero(5 * c, c)
                .write(6 * c + c / 4, c / 4, 0x32)
                .write(11 * c, 3 * c, 0x33)
                .zero(11 * c, c)
                .zeroUnmap(12 * c, c)
                .write(14 * c, 2 * c, 0x35)
                .write(size - 100, 50, 0x34);
        Chain chain = b.build();
        qemu.io(chain.top(), "qcow2", "discard " + 14 * c + " " + c);
        byte[] expected = chain.expected();
        if (o.v3()) {
            // v3: a discarded cluster reads as zeros (ZERO_PLAIN). QEMU 7.2 ignores the discard
            // request on a v2 image with a backing file: the data stays (checked against
            // qemu-img convert below, before the engine is judged).
            Arrays.fill(expected, (int) (14 * c), (int) (15 * c), (byte) 0);
        }
        return new Planted(chain, expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("matrix")
    void plantedChainReadsBackByteIdentically(Options o) {
        Planted p = plant(o);
        Chain chain = p.chain();

        Interop.assertSameBytes(
                AssertImages.guestContent(chain.top()),
                p.expectedTop(),
                "model check: qemu-img convert of the top vs the model");
        Interop.assertSameBytes(Interop.readChain(chain.top()), p.expectedTop(), "engine's view of the top");
        Interop.assertSameBytes(
                Interop.readChain(chain.path("mid.qcow2")), chain.expected("mid.qcow2"), "engine's view of mid");
        Interop.assertSameBytes(
                Interop.readChain(chain.base()), chain.expected("base.qcow2"), "engine's view of the base");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("matrix")
    void plantedChainBlockStatusEqualsQemuImgMap(Options o) {
        Chain chain = plant(o).chain();

        try (ImageChain ours = Interop.openChain(chain.top(), true)) {
            Interop.assertSameMap(Interop.engineMap(ours), Interop.qemuMap(qemu, chain.top()), "chain " + o);
            for (Image layer : ours.layers()) {
                Interop.assertSameMap(
                        Interop.engineLayerMap(layer),
                        Interop.qemuLayerMap(qemu, layer.path()),
                        "layer " + layer.path().getFileName() + " " + o);
            }
        }
    }

    // ------------------------------------------------------------------ chain shapes

    /** Chains whose layers all have the same size. */
    static Stream<Arguments> fullLengthShapes() {
        ChainShape standard = ChainShape.standard();
        return Stream.of(
                Arguments.of("standard", standard),
                Arguments.of("v2", standard.withCompat("0.10")),
                Arguments.of("mixed clusters 4k/64k/512", standard.withClusterSizes(4096, 65536, 512)),
                Arguments.of("2M top cluster over a 512 mid", standard.withClusterSizes(65536, 512, 2 * (int) MIB)),
                Arguments.of(
                        "8M, 2M base clusters",
                        standard.withSize(8 * MIB).withClusterSizes(2 * (int) MIB, 65536, 4096)));
    }

    /** Chains whose middle layer is shorter than the top: past its end the top reads zeros (§7). */
    static Stream<Arguments> shortMiddleShapes() {
        ChainShape standard = ChainShape.standard();
        return Stream.of(
                Arguments.of("short mid (1M under 4M)", standard.withShortMid(MIB)),
                Arguments.of("v2, short mid", standard.withCompat("0.10").withShortMid(MIB)),
                Arguments.of(
                        "8M, 2M base clusters, 3M mid",
                        standard.withSize(8 * MIB)
                                .withClusterSizes(2 * (int) MIB, 65536, 4096)
                                .withShortMid(3 * MIB)));
    }

    /** Sparse raw bases: compared by content only (see the class comment). */
    static Stream<Arguments> sparseRawBaseShapes() {
        ChainShape standard = ChainShape.standard();
        return Stream.of(
                Arguments.of("sparse raw base", standard.withRawBase()),
                Arguments.of(
                        "sparse raw base, v2, short mid, mixed clusters",
                        standard.withRawBase()
                                .withCompat("0.10")
                                .withShortMid(MIB)
                                .withClusterSizes(512, 4096, 65536)));
    }

    static Stream<Arguments> shapes() {
        return Stream.of(fullLengthShapes(), shortMiddleShapes(), sparseRawBaseShapes())
                .flatMap(a -> a);
    }

    static Stream<Arguments> qcow2BaseShapes() {
        return Stream.concat(fullLengthShapes(), shortMiddleShapes());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void baseMidTopChainReadsBackByteIdentically(String name, ChainShape shape) {
        Chain chain = Chains.baseMidTop(qemu, dir, shape);

        Interop.assertSameBytes(Interop.readChain(chain.top()), chain.expected(), "engine's view of the top");
        Interop.assertSameBytes(
                Interop.readChain(chain.top()),
                AssertImages.guestContent(chain.top()),
                "engine's view of the top vs qemu-img convert");
        Interop.assertSameBytes(
                Interop.readChain(chain.path("mid.qcow2")), chain.expected("mid.qcow2"), "engine's view of mid");
    }

    /** Not for sparse raw bases: see the class comment. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fullLengthShapes")
    void baseMidTopChainMapEqualsQemuImgMap(String name, ChainShape shape) {
        Chain chain = Chains.baseMidTop(qemu, dir, shape);

        try (ImageChain ours = Interop.openChain(chain.top(), true)) {
            Interop.assertSameMap(Interop.engineMap(ours), Interop.qemuMap(qemu, chain.top()), "chain " + name);
        }
    }

    /**
     * Past the end of a shorter backing layer QEMU stops the lookup in the layer ABOVE it
     * ({@code bdrv_co_block_status} sets {@code BDRV_BLOCK_ZERO} for an unallocated range at or
     * beyond the size of the backing file): {@code "depth"} is that of the layer whose backing is
     * short, {@code "present": false, "zero": true}.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("shortMiddleShapes")
    void chainWithAShorterMiddleLayerMapsLikeQemuImgMap(String name, ChainShape shape) {
        Chain chain = Chains.baseMidTop(qemu, dir, shape);

        try (ImageChain ours = Interop.openChain(chain.top(), true)) {
            Interop.assertSameMap(Interop.engineMap(ours), Interop.qemuMap(qemu, chain.top()), "chain " + name);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("qcow2BaseShapes")
    void baseMidTopLayerBlockStatusEqualsQemuImgMapOfTheLayerAlone(String name, ChainShape shape) {
        Chain chain = Chains.baseMidTop(qemu, dir, shape);

        try (ImageChain ours = Interop.openChain(chain.top(), true)) {
            for (Image layer : ours.layers()) {
                Interop.assertSameMap(
                        Interop.engineLayerMap(layer),
                        Interop.qemuLayerMap(qemu, layer.path()),
                        "layer " + layer.path().getFileName() + " of " + name);
            }
        }
    }

    @Test
    void fullyWrittenRawBaseChainMapEqualsQemuImgMap() {
        Chain chain = fullyWrittenRawBaseChain();

        try (ImageChain ours = Interop.openChain(chain.top(), true)) {
            assertThat(ours.layers())
                    .extracting(Image::format)
                    .containsExactly(ImageFormat.QCOW2, ImageFormat.QCOW2, ImageFormat.RAW);
            Interop.assertSameMap(Interop.engineMap(ours), Interop.qemuMap(qemu, chain.top()), "raw-based chain");
        }
    }

    @Test
    void fullyWrittenRawBaseChainReadsBackByteIdentically() {
        Chain chain = fullyWrittenRawBaseChain();

        Interop.assertSameBytes(Interop.readChain(chain.top()), chain.expected(), "engine's view of the top");
        Interop.assertSameBytes(
                Interop.readChain(chain.top()),
                AssertImages.guestContent(chain.top()),
                "engine's view of the top vs qemu-img convert");
    }

    /** A raw base without holes (so QEMU reports it as data throughout), under two qcow2 layers. */
    private Chain fullyWrittenRawBaseChain() {
        return Chains.in(qemu, dir)
                .base("base.raw", "raw", 4 * MIB)
                .write(0, 4 * MIB, 0x01)
                .write(MIB, 64 * KIB, 0x02)
                .write(3 * MIB + 7, 1000, 0x03)
                .overlay("mid.qcow2")
                .clusterSize(4096)
                .write(60 * KIB, 8 * KIB, 0x21)
                .zero(MIB, 16 * KIB)
                .overlay("top.qcow2")
                .clusterSize(65536)
                .write(3 * MIB, 64 * KIB, 0x31)
                .zeroUnmap(2 * MIB, 128 * KIB)
                .write(4 * MIB - 512, 512, 0x32)
                .build();
    }

    // ------------------------------------------------------------------ lazy refcounts, dirty bit

    private Chain lazyRefcountsChain() {
        return Chains.in(qemu, dir)
                .base("base.qcow2", "qcow2", 4 * MIB)
                .write(0, MIB, 0x11)
                .overlay("top.qcow2")
                .option("lazy_refcounts=on")
                .write(64 * KIB + 5, 100 * KIB, 0x21)
                .zero(512 * KIB, 128 * KIB)
                .zeroUnmap(2 * MIB, 64 * KIB)
                .write(3 * MIB, 64 * KIB, 0x22)
                .build();
    }

    @Test
    void lazyRefcountsImageReadsAndMapsLikeQemu() {
        Chain chain = lazyRefcountsChain();
        JsonNode info = qemu.info(chain.top());
        assertThat(info.path("format-specific")
                        .path("data")
                        .path("lazy-refcounts")
                        .asBoolean())
                .isTrue();
        assertThat(info.path("dirty-flag").asBoolean(false))
                .as("qemu-io closed it cleanly")
                .isFalse();

        try (ImageChain ours = Interop.openChain(chain.top(), true)) {
            assertThat(ours.top().details().lazyRefcounts()).isTrue();
            assertThat(ours.top().details().dirty()).isFalse();
            Interop.assertSameBytes(Interop.read(ours), chain.expected(), "engine's view of the lazy top");
            Interop.assertSameMap(Interop.engineMap(ours), Interop.qemuMap(qemu, chain.top()), "lazy chain");
        }
    }

    /**
     * What a crash of a lazy-refcounts writer leaves (qcow2-notes §8.3): the dirty bit, and a data
     * cluster whose refcount never reached the disk. Reading needs no refcounts; a writable open
     * rebuilds them and clears the bit, as QEMU does.
     */
    private Chain crashedLazyRefcountsChain() {
        Chain chain = lazyRefcountsChain();
        Qcow2Surgery.setRefcount(chain.top(), Qcow2Surgery.hostOffset(chain.top(), 3 * MIB), 0);
        setDirtyBit(chain.top());
        return chain;
    }

    @Test
    void dirtyImageReadsLikeQemu() {
        Chain chain = crashedLazyRefcountsChain();
        assertThat(qemu.info(chain.top()).path("dirty-flag").asBoolean(false))
                .as("qemu sees the dirty bit")
                .isTrue();
        byte[] before = Interop.readAll(chain.top());

        try (ImageChain ours = Interop.openChain(chain.top(), true)) {
            assertThat(ours.top().details().dirty()).isTrue();
            Interop.assertSameBytes(Interop.read(ours), chain.expected(), "engine's view of the dirty top");
            Interop.assertSameMap(Interop.engineMap(ours), Interop.qemuMap(qemu, chain.top()), "dirty chain");
        }
        assertThat(Interop.readAll(chain.top()))
                .as("a read-only open changes nothing")
                .isEqualTo(before);
    }

    @Test
    void dirtyImageIsRepairedByAWritableOpenAsQemuWouldRepairIt() {
        Chain chain = crashedLazyRefcountsChain();
        assertThat(qemu.check(chain.top()).corruptions())
                .as("the refcount lost in the crash")
                .isPositive();

        try (ImageChain ours = Interop.openChain(chain.top(), false)) {
            assertThat(ours.top().details().dirty()).as("dirty when opened").isTrue();
        }

        AssertImages.assertNotDirtyNorCorrupt(chain.top());
        AssertImages.assertCheckClean(chain.top());
        AssertImages.assertContent(chain.top(), chain.expected());
    }

    /**
     * Sets incompatible bit 0, as a crash of a lazy-refcounts writer leaves it (qcow2-notes §8.3;
     * patched instead of crashing qemu-io, which would leave a core file behind).
     */
    private static void setDirtyBit(Path image) {
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(8);
            ch.read(b, 72);
            long incompat = b.flip().getLong(0) | 1L;
            ch.write(ByteBuffer.allocate(8).putLong(0, incompat), 72);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ extended L2

    /**
     * A standard 64 KiB base full of data under a 64 KiB {@code extended_l2=on} top: a 4 KiB write
     * allocates one subcluster only, zero writes set zero bits of single subclusters and of an
     * untouched cluster, unaligned writes cover parts of subclusters, and a discard.
     */
    private Chain extendedL2Chain() {
        Chain chain = Chains.in(qemu, dir)
                .base("base.qcow2", "qcow2", 4 * MIB)
                .write(0, 2 * MIB, 0x11)
                .overlay("top.qcow2")
                .clusterSize(65536)
                .option("extended_l2=on")
                .write(4 * KIB, 4 * KIB, 0x21)
                .zero(16 * KIB, 8 * KIB)
                .zero(128 * KIB, 64 * KIB)
                .write(256 * KIB + 100, 5000, 0x22)
                .write(512 * KIB, 192 * KIB, 0x23)
                .zeroUnmap(576 * KIB, 64 * KIB)
                .zero(640 * KIB + 2 * KIB, 4 * KIB)
                .write(3 * MIB - 2 * KIB, 4 * KIB, 0x24)
                .build();
        qemu.io(chain.top(), "qcow2", "discard " + MIB + " " + 64 * KIB);
        return chain;
    }

    private static byte[] extendedL2Expected(Chain chain) {
        byte[] expected = chain.expected();
        Arrays.fill(expected, (int) MIB, (int) (MIB + 64 * KIB), (byte) 0);
        return expected;
    }

    @Test
    void extendedL2ChainReadsBackByteIdentically() {
        Chain chain = extendedL2Chain();
        byte[] expected = extendedL2Expected(chain);

        Interop.assertSameBytes(AssertImages.guestContent(chain.top()), expected, "model check: qemu-img convert");
        try (ImageChain ours = Interop.openChain(chain.top(), true)) {
            assertThat(ours.top().details().extendedL2()).isTrue();
            Interop.assertSameBytes(Interop.read(ours), expected, "engine's view of the extended-L2 top");
        }
    }

    @Test
    void extendedL2ChainMapEqualsQemuImgMap() {
        Chain chain = extendedL2Chain();

        try (ImageChain ours = Interop.openChain(chain.top(), true)) {
            Interop.assertSameMap(Interop.engineMap(ours), Interop.qemuMap(qemu, chain.top()), "extended-L2 chain");
        }
    }

    /**
     * The layer alone, compared without the host offsets of unallocated runs: for a subcluster
     * that is unallocated in an allocated host cluster (UNALLOCATED_ALLOC) QEMU prints the host
     * offset even though the run is not present; see the next test.
     */
    @Test
    void extendedL2LayerBlockStatusEqualsQemuImgMapOfTheLayerAlone() {
        Chain chain = extendedL2Chain();

        try (Image top = ImageOpener.open(chain.top(), ImageFormat.QCOW2, true)) {
            Interop.assertSameMap(
                    Interop.withoutOffsetsOfAbsentRuns(Interop.engineLayerMap(top)),
                    Interop.withoutOffsetsOfAbsentRuns(Interop.qemuLayerMap(qemu, chain.top())),
                    "extended-L2 layer");
        }
    }

    /**
     * {@code qcow2_co_block_status} sets {@code BDRV_BLOCK_OFFSET_VALID} for UNALLOCATED_ALLOC
     * subclusters, so {@code qemu-img map} prints {@code "present": false, "zero": true,
     * "offset": X} for them when no backing file answers (qcow2-notes §7.1: "UNALLOCATED_ALLOC →
     * offset only").
     */
    @Test
    void extendedL2UnallocatedSubclustersReportTheirHostOffsetLikeQemuImgMap() {
        Chain chain = Chains.in(qemu, dir)
                .base("ext.qcow2", "qcow2", MIB)
                .clusterSize(65536)
                .option("extended_l2=on")
                .write(4 * KIB, 4 * KIB, 0x21)
                .write(200 * KIB, 10 * KIB, 0x22)
                .build();

        try (Image image = ImageOpener.open(chain.top(), ImageFormat.QCOW2, true)) {
            Interop.assertSameMap(
                    Interop.engineLayerMap(image),
                    Interop.qemuLayerMap(qemu, chain.top()),
                    "extended-L2 image without backing");
        }
    }

    @Test
    void extendedL2ImageIsRefusedForWritingWithAClearError() {
        Chain chain = extendedL2Chain();
        byte[] before = Interop.readAll(chain.top());

        assertThatThrownBy(() -> ImageOpener.open(chain.top(), ImageFormat.QCOW2, false))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("extended L2")
                .hasMessageContaining("read-only");
        assertThatThrownBy(() -> Interop.openChain(chain.top(), false))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("extended L2");
        assertThat(Interop.readAll(chain.top()))
                .as("the refused opens changed nothing")
                .isEqualTo(before);
        AssertImages.assertCheckClean(chain.top());
    }

    // ------------------------------------------------------------------ qemu-img convert -c

    /** {@code qemu-img convert -c} options: cluster size, compression type, compat. */
    record Compression(int clusterSize, String type, String compat) {
        @Override
        public String toString() {
            return "cluster_size=" + clusterSize + ",compression_type=" + type + ",compat=" + compat;
        }
    }

    static Stream<Compression> zlibCompressions() {
        return Stream.of(
                new Compression(65536, "zlib", "1.1"),
                new Compression(65536, "zlib", "0.10"),
                new Compression(512, "zlib", "1.1"),
                new Compression(2 * (int) MIB, "zlib", "1.1"));
    }

    static Stream<Compression> zstdCompressions() {
        return Stream.of(
                new Compression(65536, "zstd", "1.1"),
                new Compression(4096, "zstd", "1.1"),
                new Compression(2 * (int) MIB, "zstd", "1.1"));
    }

    static Stream<Compression> compressions() {
        return Stream.concat(zlibCompressions(), zstdCompressions());
    }

    /**
     * Source content per cluster, in turn: a byte pattern, zeros (left unallocated by convert),
     * random bytes (incompressible: convert stores them uncompressed), text (compressible), and
     * half random half zeros.
     */
    private static byte[] compressionSource(int clusterSize, long seed) {
        int size = (int) Math.max(2 * MIB, 8L * clusterSize);
        byte[] src = new byte[size];
        Random rnd = new Random(seed);
        byte[] text =
                ("The quick brown fox streams a qcow2 chain. ").repeat(100).getBytes();
        for (int c = 0; c * clusterSize < size; c++) {
            int from = c * clusterSize;
            switch (c % 5) {
                case 0 -> Arrays.fill(src, from, from + clusterSize, (byte) (0x40 + c % 64));
                case 1 -> {}
                case 2 -> {
                    byte[] r = new byte[clusterSize];
                    rnd.nextBytes(r);
                    System.arraycopy(r, 0, src, from, clusterSize);
                }
                case 3 -> {
                    for (int i = 0; i < clusterSize; i++) {
                        src[from + i] = text[(i + c) % text.length];
                    }
                    src[from + rnd.nextInt(clusterSize)] = (byte) rnd.nextInt();
                }
                default -> {
                    byte[] r = new byte[clusterSize / 2];
                    rnd.nextBytes(r);
                    System.arraycopy(r, 0, src, from, r.length);
                }
            }
        }
        return src;
    }

    private Path convertCompressed(Compression c, byte[] source) {
        Path raw = Interop.writeRaw(dir.resolve("source.raw"), source);
        Path image = dir.resolve("compressed.qcow2");
        String opts = "cluster_size=" + c.clusterSize() + ",compat=" + c.compat()
                + (c.type().equals("zlib") ? "" : ",compression_type=" + c.type());
        qemu.convert("-c", "-f", "raw", "-O", "qcow2", "-o", opts, raw.toString(), image.toString());
        return image;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("zlibCompressions")
    void zlibCompressedImageReadsBackByteIdentically(Compression c) {
        assertCompressedImageReadsBack(c);
    }

    /**
     * QEMU's zstd input for a cluster is the frame plus the slack up to the end of its last
     * 512-byte sector (zeros, or the next compressed cluster); the decoder must stop once the
     * cluster is full and never look past the frame (qcow2-notes §5.5).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("zstdCompressions")
    void zstdCompressedImageReadsBackByteIdentically(Compression c) {
        assertCompressedImageReadsBack(c);
    }

    private void assertCompressedImageReadsBack(Compression c) {
        byte[] source = compressionSource(c.clusterSize(), 42);
        Path image = convertCompressed(c, source);
        assertThat(qemu.check(image).output())
                .as("convert -c compressed something")
                .contains("compressed-clusters");

        try (ImageChain ours = Interop.openChain(image, true)) {
            assertThat(ours.top().details().compressionType()).isEqualTo(c.type());
            Interop.assertSameBytes(Interop.read(ours), source, "engine's view of the compressed image");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("compressions")
    void compressedImageBlockStatusEqualsQemuImgMap(Compression c) {
        Path image = convertCompressed(c, compressionSource(c.clusterSize(), 43));

        try (ImageChain ours = Interop.openChain(image, true)) {
            List<Run> engine = Interop.engineMap(ours);
            assertThat(engine)
                    .as("compressed runs: data without a host offset")
                    .anyMatch(r -> r.data() && r.offset() == null);
            Interop.assertSameMap(engine, Interop.qemuMap(qemu, image), "compressed image " + c);
        }
    }

    @Test
    void compressedLayerInAChainReadsAndMapsLikeQemu() {
        Chain chain = Chains.in(qemu, dir)
                .base("base.qcow2", "qcow2", 4 * MIB)
                .clusterSize(4096)
                .write(0, 4 * MIB, 0x11)
                .overlay("mid.qcow2")
                .clusterSize(65536)
                .writeCompressed(0, 128 * KIB, 0x21)
                .writeCompressed(MIB, 64 * KIB, 0x22)
                .writeCompressed(3 * MIB, 192 * KIB, 0x23)
                .overlay("top.qcow2")
                .clusterSize(512)
                .write(64 * KIB + 512, 1024, 0x31)
                .zero(MIB + 4 * KIB, 4 * KIB)
                .build();

        try (ImageChain ours = Interop.openChain(chain.top(), true)) {
            Interop.assertSameBytes(Interop.read(ours), chain.expected(), "engine's view of the top");
            Interop.assertSameMap(
                    Interop.engineMap(ours),
                    Interop.qemuMap(qemu, chain.top()),
                    "chain with a compressed middle layer");
        }
    }

    // ------------------------------------------------------------------ sanity of the oracle plumbing

    @Test
    void readOnlyChainRefusesWrites() {
        Chain chain = Chains.baseMidTop(qemu, dir);

        try (ImageChain ours = Interop.openChain(chain.top(), true)) {
            assertThat(ours.layers()).allMatch(Image::isReadOnly);
            assertThatThrownBy(() -> ours.top().write(0, ByteBuffer.allocate(512)))
                    .isInstanceOf(BlockException.class)
                    .hasMessageContaining("read-only");
        }
    }
}
