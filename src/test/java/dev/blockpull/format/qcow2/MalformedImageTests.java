package dev.blockpull.format.qcow2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.blockpull.format.Image;
import dev.blockpull.format.ImageChain;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;
import dev.blockpull.format.qcow2.ImageMutations.Extension;
import dev.blockpull.format.qcow2.ImageMutations.Layout;
import dev.blockpull.format.qcow2.ImageMutations.Region;
import dev.blockpull.format.qcow2.ImageMutations.RegionKind;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.testsupport.AssertImages;
import dev.blockpull.testsupport.Qcow2Surgery;
import dev.blockpull.testsupport.QemuTools;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.function.LongUnaryOperator;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile and damaged qcow2 files (qcow2-notes §2.2, §5, §6, §11). A corpus of real images is
 * made with qemu-img/qemu-io (v2 and v3, 64 KiB and 512-byte clusters, an overlay, a compressed
 * image, all with data in them); every test copies one, damages it, and opens, reads, and writes
 * it through the engine. The engine must answer with a {@link BlockException} that names the
 * problem, at open or at the access that touches the bad structure, and never with another
 * exception type, a hang, an OutOfMemoryError, or wrong data.
 */
class MalformedImageTests {

    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;
    private static final long PIB = 1L << 50;
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);
    /** How much of the guest a probe reads (everything in the corpus, which is at most 4 MiB). */
    private static final long READ_LIMIT = 8 * MIB;

    private static final long COPIED = Qcow2Surgery.OFLAG_COPIED;

    /** The corpus: real images made by QEMU, one per kind. */
    enum Kind {
        V3_64K("v3-64k.qcow2"),
        V2_64K("v2-64k.qcow2"),
        V3_512("v3-512.qcow2"),
        V2_512("v2-512.qcow2"),
        OVERLAY("overlay.qcow2"),
        COMPRESSED("compressed.qcow2");

        final String file;

        Kind(String file) {
            this.file = file;
        }
    }

    /** How far a probe got before the engine refused; the order is the order of a probe. */
    enum Stage {
        OPEN_READ_ONLY,
        READ,
        OPEN_WRITABLE,
        WRITE
    }

    @TempDir
    static Path corpus;

    @TempDir
    Path dir;

    private static QemuTools qemu;
    private static final Map<Kind, Layout> LAYOUTS = new EnumMap<>(Kind.class);
    /** Each image's own content as the engine reads the undamaged file (this layer only). */
    private static final Map<Kind, byte[]> CONTENT = new EnumMap<>(Kind.class);

    @BeforeAll
    static void buildCorpus() {
        qemu = QemuTools.require();
        Path v3 = corpus.resolve(Kind.V3_64K.file);
        qemu.create(v3, "qcow2", "4M", "-o", "cluster_size=65536,compat=1.1");
        qemu.io(
                v3,
                "qcow2",
                "write -P 0x11 0 64k",
                "write -P 0x12 1052672 4k",
                "write -z 2M 64k",
                "write -P 0x14 3M 64k",
                "write -z 3M 64k",
                "write -P 0x13 4128768 64k");
        Path v2 = corpus.resolve(Kind.V2_64K.file);
        qemu.create(v2, "qcow2", "4M", "-o", "cluster_size=65536,compat=0.10");
        qemu.io(v2, "qcow2", "write -P 0x11 0 64k", "write -P 0x12 1052672 4k", "write -P 0x13 4128768 64k");
        Path v3small = corpus.resolve(Kind.V3_512.file);
        qemu.create(v3small, "qcow2", "1M", "-o", "cluster_size=512,compat=1.1");
        qemu.io(
                v3small,
                "qcow2",
                "write -P 0x21 0 4k",
                "write -P 0x22 102500 1000",
                "write -P 0x23 700k 8k",
                "write -z 300k 2k");
        Path v2small = corpus.resolve(Kind.V2_512.file);
        qemu.create(v2small, "qcow2", "1M", "-o", "cluster_size=512,compat=0.10");
        qemu.io(v2small, "qcow2", "write -P 0x21 0 4k", "write -P 0x22 102500 1000", "write -P 0x23 700k 8k");
        Path base = corpus.resolve("overlay-base.qcow2");
        qemu.create(base, "qcow2", "4M", "-o", "cluster_size=65536,compat=1.1");
        qemu.io(base, "qcow2", "write -P 0x31 0 1M");
        Path overlay = corpus.resolve(Kind.OVERLAY.file);
        qemu.createOverlay(overlay, base, "-o", "cluster_size=65536,compat=1.1");
        qemu.io(overlay, "qcow2", "write -P 0x41 66048 4k", "write -P 0x42 2M 64k");
        Path source = corpus.resolve("compressed-source.qcow2");
        qemu.create(source, "qcow2", "4M", "-o", "cluster_size=65536,compat=1.1");
        qemu.io(source, "qcow2", "write -P 0x51 0 64k", "write -P 0x52 64k 64k", "write -P 0x53 1M 128k");
        qemu.convert(
                "-c",
                "-f",
                "qcow2",
                "-O",
                "qcow2",
                source.toString(),
                corpus.resolve(Kind.COMPRESSED.file).toString());
        for (Kind k : Kind.values()) {
            Path p = corpus.resolve(k.file);
            AssertImages.assertCheckClean(p);
            LAYOUTS.put(k, ImageMutations.layout(p));
            CONTENT.put(k, readOwnLayer(p));
        }
        assertThat(LAYOUTS.get(Kind.COMPRESSED).of(RegionKind.COMPRESSED))
                .as("compressed clusters")
                .hasSize(4);
        assertThat(LAYOUTS.get(Kind.V3_64K).of(RegionKind.ZERO_ALLOC))
                .as("zero-allocated clusters")
                .hasSize(1);
    }

    // ================================================================ the corpus itself

    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void undamagedCorpusImageReadsAsQemuReadsItAndSurvivesAProbe(Kind kind) {
        Path image = copyOf(kind);
        try (ImageChain chain =
                ImageChain.open(image, ImageFormat.QCOW2, (img, ref) -> img.resolveSibling(ref.fileName()), 4, true)) {
            byte[] engine = new byte[(int) chain.top().virtualSize()];
            chain.read(0, ByteBuffer.wrap(engine));
            assertThat(Arrays.mismatch(engine, AssertImages.guestContent(image)))
                    .as("first difference")
                    .isEqualTo(-1);
        }
        Outcome outcome = probe(image, kind);
        assertThat(outcome.failure()).as("probe of the undamaged %s", kind).isNull();
        AssertImages.assertCheckClean(image);
    }

    // ================================================================ header fields, extensions, tables

    /** One damage and what the engine must say about it ({@code message}: fragments, "|" separated, one must match). */
    record Case(String name, Kind kind, Mutation mutation, Stage failsBy, boolean readOnlyWorks, String message) {
        @Override
        public String toString() {
            return kind.file + ": " + name;
        }
    }

    @FunctionalInterface
    interface Mutation {
        void apply(Path image, Layout layout);
    }

    static Stream<Case> headerCases() {
        return Stream.of(
                open(Kind.V3_64K, "magic zeroed", putInt(0, 0), "not in qcow2 format"),
                open(Kind.V2_64K, "magic with its last bit flipped", putInt(0, 0x514649FA), "not in qcow2 format"),
                open(Kind.V3_64K, "version 1", putInt(4, 1), "version 1"),
                open(Kind.V3_64K, "version 4", putInt(4, 4), "version 4"),
                open(Kind.V2_64K, "version -1", putInt(4, -1), "version -1"),
                open(Kind.V3_64K, "cluster_bits 8", putInt(20, 8), "cluster size"),
                open(Kind.V3_64K, "cluster_bits 22", putInt(20, 22), "cluster size"),
                open(Kind.V3_64K, "cluster_bits 63", putInt(20, 63), "cluster size"),
                open(Kind.V3_512, "cluster_bits 8", putInt(20, 8), "cluster size"),
                open(Kind.V2_512, "cluster_bits 0xffffffff", putInt(20, -1), "cluster size"),
                open(Kind.V3_64K, "size -1", putLong(24, -1), "size"),
                open(Kind.V2_64K, "size Long.MIN_VALUE", putLong(24, Long.MIN_VALUE), "size"),
                open(Kind.V3_64K, "size 2^62 + 512", putLong(24, (1L << 62) + 512), "size"),
                open(Kind.V3_64K, "size 1 PiB with the 4 MiB L1", putLong(24, PIB), "L1 table is too small"),
                open(
                        Kind.V3_64K,
                        "size 1 PiB with a 16 MiB L1 in a tiny file",
                        all(putLong(24, PIB), putInt(36, 1 << 21)),
                        "beyond the end of the file"),
                open(Kind.V3_512, "size 1 PiB (needs more L1 than QEMU allows)", putLong(24, PIB), "too big"),
                open(Kind.V3_64K, "size 4 PiB (needs more L1 than QEMU allows)", putLong(24, 4 * PIB), "too big"),
                open(Kind.V3_64K, "crypt_method 1 (AES)", putInt(32, 1), "encrypted"),
                open(Kind.V2_64K, "crypt_method 2 (LUKS)", putInt(32, 2), "encrypted"),
                open(Kind.V3_64K, "crypt_method -1", putInt(32, -1), "encrypted"),
                open(Kind.V3_64K, "l1_size 0x7fffffff", putInt(36, Integer.MAX_VALUE), "L1 table too large"),
                open(Kind.V3_64K, "l1_size -1", putInt(36, -1), "L1 table too large"),
                open(Kind.V3_64K, "l1_size 4Mi + 1 entries", putInt(36, (4 << 20) + 1), "L1 table too large"),
                open(
                        Kind.V3_64K,
                        "l1_size 4Mi entries (32 MiB) in a tiny file",
                        putInt(36, 4 << 20),
                        "beyond the end of the file"),
                open(Kind.V3_64K, "l1_size 0", putInt(36, 0), "L1 table is too small"),
                open(Kind.V3_512, "l1_size one entry too small", putInt(36, 31), "L1 table is too small"),
                open(
                        Kind.V3_64K,
                        "l1_table_offset unaligned",
                        (p, l) -> putLong(p, 40, l.header().l1TableOffset() + 8),
                        "L1 table offset invalid"),
                open(
                        Kind.V3_512,
                        "l1_table_offset unaligned",
                        (p, l) -> putLong(p, 40, l.header().l1TableOffset() + 8),
                        "L1 table offset invalid"),
                open(Kind.V3_64K, "l1_table_offset past EOF", putLong(40, 1L << 40), "beyond the end of the file"),
                open(
                        Kind.V3_64K,
                        "l1_table_offset at 2^63 - 64 KiB",
                        putLong(40, Long.MAX_VALUE & ~0xFFFFL),
                        "beyond the end of the file"),
                open(Kind.V3_64K, "l1_table_offset 0", putLong(40, 0), "L1 table offset invalid"),
                open(Kind.V2_64K, "l1_table_offset negative", putLong(40, -65536), "L1 table offset invalid"),
                open(
                        Kind.V3_64K,
                        "refcount_table_offset unaligned",
                        (p, l) -> putLong(p, 48, l.header().refcountTableOffset() + 512),
                        "Reference count table offset invalid"),
                open(
                        Kind.V3_64K,
                        "refcount_table_offset past EOF",
                        putLong(48, 1L << 40),
                        "Reference count table lies beyond the end of the file"),
                open(
                        Kind.V2_512,
                        "refcount_table_offset past EOF",
                        putLong(48, 1L << 30),
                        "Reference count table lies beyond the end of the file"),
                open(Kind.V3_64K, "refcount_table_offset 0", putLong(48, 0), "Reference count table offset invalid"),
                open(Kind.V3_64K, "refcount_table_clusters 0", putInt(56, 0), "reference count table"),
                open(
                        Kind.V3_64K,
                        "refcount_table_clusters 0x7fffffff",
                        putInt(56, Integer.MAX_VALUE),
                        "Reference count table too large"),
                open(
                        Kind.V3_64K,
                        "refcount_table_clusters 129 (8 MiB + 64 KiB)",
                        putInt(56, 129),
                        "Reference count table too large"),
                open(Kind.V3_64K, "refcount_table_clusters -1", putInt(56, -1), "reference count table"),
                open(
                        Kind.V3_512,
                        "refcount_table_clusters past EOF",
                        putInt(56, 4096),
                        "Reference count table lies beyond the end of the file"),
                open(Kind.V3_64K, "nb_snapshots 0x7fffffff", putInt(60, Integer.MAX_VALUE), "Too many snapshots"),
                open(
                        Kind.V3_64K,
                        "nb_snapshots 65537",
                        all(putInt(60, 65537), putLong(64, 0x10000)),
                        "Too many snapshots"),
                open(Kind.V3_64K, "nb_snapshots -1", putInt(60, -1), "Too many snapshots"),
                open(Kind.V3_64K, "one snapshot at offset 0", putInt(60, 1), "snapshot table offset"),
                open(
                        Kind.V3_64K,
                        "one snapshot past EOF",
                        all(putInt(60, 1), putLong(64, 1L << 40)),
                        "snapshot table offset"),
                open(
                        Kind.V3_64K,
                        "one snapshot at an unaligned offset",
                        all(putInt(60, 1), putLong(64, 0x10008)),
                        "snapshot table offset"),
                readOnly(
                        Kind.V3_64K,
                        "one snapshot (read-only only)",
                        all(putInt(60, 1), putLong(64, 0x10000)),
                        "internal snapshots"),
                open(
                        Kind.V3_64K,
                        "incompatible bit 5 (unknown)",
                        putLong(72, 1L << 5),
                        "Unsupported qcow2 feature(s): Unknown incompatible feature: 20"),
                open(
                        Kind.V3_64K,
                        "incompatible bit 63 (unknown)",
                        putLong(72, 1L << 63),
                        "Unknown incompatible feature"),
                readOnly(
                        Kind.V3_64K,
                        "corrupt bit",
                        putLong(72, 1L << 1),
                        "Image is corrupt; cannot be opened read/write"),
                readOnly(
                        Kind.V3_512,
                        "corrupt bit",
                        putLong(72, 1L << 1),
                        "Image is corrupt; cannot be opened read/write"),
                open(Kind.V3_64K, "external data file bit", putLong(72, 1L << 2), "external data file"),
                open(Kind.V3_64K, "compression type bit with type zlib", putLong(72, 1L << 3), "compression type"),
                open(Kind.V3_64K, "compression type zstd without the bit", putByte(104, 1), "compression type"),
                open(Kind.V3_64K, "compression type 2", all(putLong(72, 1L << 3), putByte(104, 2)), "compression type"),
                open(
                        Kind.V3_64K,
                        "compression type bit with a 104-byte header",
                        all(putLong(72, 1L << 3), putInt(100, 104)),
                        "compression type"),
                open(Kind.V3_512, "extended L2 with 512-byte clusters", putLong(72, 1L << 4), "Extended L2"),
                atMost(
                        Kind.V3_64K,
                        "extended L2 bit on a standard image",
                        putLong(72, 1L << 4),
                        Stage.OPEN_WRITABLE,
                        "extended L2"),
                open(Kind.V3_64K, "refcount_order 7", putInt(96, 7), "width too large"),
                open(Kind.V3_64K, "header_length 100 (too small)", putInt(100, 100), "too small"),
                open(Kind.V3_64K, "header_length 108 (unaligned)", putInt(100, 108), "multiple of 8"),
                open(Kind.V3_64K, "header_length 128 KiB (past the cluster)", putInt(100, 128 * 1024), "exceeds"),
                open(Kind.V3_512, "header_length 1024 (past the cluster)", putInt(100, 1024), "exceeds"),
                open(Kind.V3_64K, "header_length -8", putInt(100, -8), "too small"),
                open(Kind.V3_64K, "padding after the compression type not zero", putByte(105, 1), "padding"));
    }

    static Stream<Case> extensionCases() {
        return Stream.of(
                open(Kind.OVERLAY, "backing_file_offset past the cluster", putLong(8, 0x10008), "backing file offset"),
                open(Kind.OVERLAY, "backing_file_offset negative", putLong(8, -1), "backing file offset"),
                open(Kind.OVERLAY, "backing name of 1024 bytes", putInt(16, 1024), "Backing file name too long"),
                open(
                        Kind.OVERLAY,
                        "backing name of 0x7fffffff bytes",
                        putInt(16, Integer.MAX_VALUE),
                        "Backing file name too long"),
                open(Kind.OVERLAY, "backing name of -1 bytes", putInt(16, -1), "Backing file name too long"),
                open(
                        Kind.OVERLAY,
                        "backing name running past the cluster",
                        all(putLong(8, 0xFFF8), putInt(16, 10)),
                        "Backing file name too long"),
                open(
                        Kind.OVERLAY,
                        "backing name with a NUL",
                        (p, l) -> putByte(p, ImageMutations.getLong(p, 8) + 3, 0),
                        "NUL"),
                open(
                        Kind.OVERLAY,
                        "backing name with a newline",
                        (p, l) -> putByte(p, ImageMutations.getLong(p, 8) + 3, '\n'),
                        "control characters"),
                open(
                        Kind.OVERLAY,
                        "extension length running past the area",
                        (p, l) -> putInt(p, ImageMutations.extensionStart(p) + 4, 0xFFFF),
                        "Header extension too large"),
                open(
                        Kind.OVERLAY,
                        "extension length 0xfffffff0",
                        (p, l) -> putInt(p, ImageMutations.extensionStart(p) + 4, 0xFFFFFFF0),
                        "Header extension too large"),
                open(
                        Kind.V3_64K,
                        "feature table longer than cluster 0",
                        (p, l) -> putInt(p, ImageMutations.extensionStart(p) + 4, 0x10000),
                        "Header extension too large"),
                open(
                        Kind.V2_64K,
                        "unknown extension running past cluster 0",
                        all(putInt(72, 0x12345678), putInt(76, 0x20000)),
                        "Header extension too large"),
                open(
                        Kind.OVERLAY,
                        "duplicate backing format extensions",
                        withExtensions(exts -> {
                            exts.add(0, Extension.backingFormat("qcow2"));
                            return exts;
                        }),
                        "Duplicate header extension"),
                open(
                        Kind.V3_64K,
                        "duplicate feature tables",
                        withExtensions(exts -> {
                            exts.add(exts.get(0));
                            return exts;
                        }),
                        "Duplicate header extension"),
                open(
                        Kind.OVERLAY,
                        "backing format extension of 16 bytes",
                        withExtensions(exts -> {
                            exts.set(0, Extension.backingFormat("qcow2qcow2qcow2q"));
                            return exts;
                        }),
                        "len=16 too large"),
                open(
                        Kind.OVERLAY,
                        "backing format vmdk",
                        withExtensions(exts -> {
                            exts.set(0, Extension.backingFormat("vmdk"));
                            return exts;
                        }),
                        "vmdk"),
                open(
                        Kind.V3_64K,
                        "external data file extension",
                        withExtensions(exts -> {
                            exts.add(new Extension(
                                    ImageMutations.EXT_DATA_FILE, "/etc/passwd".getBytes(StandardCharsets.UTF_8)));
                            return exts;
                        }),
                        "external data file"),
                readOnly(
                        Kind.V3_64K,
                        "bitmaps extension (read-only only)",
                        withExtensions(exts -> {
                            exts.add(new Extension(ImageMutations.EXT_BITMAPS, new byte[24]));
                            return exts;
                        }),
                        "bitmaps"));
    }

    static Stream<Case> tableCases() {
        return Stream.of(
                open(
                        Kind.V3_64K,
                        "L1 entry past EOF",
                        l1Entry(0, e -> COPIED | (1L << 40)),
                        "beyond the end of the file"),
                open(
                        Kind.V3_512,
                        "L1 entry past EOF",
                        l1Entry(0, e -> COPIED | (1L << 30)),
                        "beyond the end of the file"),
                open(Kind.V3_64K, "L1 entry unaligned", l1Entry(0, e -> e + 0x200), "not cluster aligned"),
                open(Kind.V3_64K, "L1 entry with reserved bit 0", l1Entry(0, e -> e | 1), "reserved bits"),
                open(Kind.V2_512, "L1 entry with reserved bit 56", l1Entry(0, e -> e | (1L << 56)), "reserved bits"),
                open(
                        Kind.V3_64K,
                        "L1 entry pointing at the refcount table",
                        l1EntryAt(0, RegionKind.REFCOUNT_TABLE),
                        "overlaps the refcount table"),
                open(
                        Kind.V3_64K,
                        "L1 entry pointing at the refcount block",
                        l1EntryAt(0, RegionKind.REFCOUNT_BLOCK),
                        "overlaps the refcount block"),
                open(
                        Kind.V3_64K,
                        "L1 entry pointing at the L1 table",
                        l1EntryAt(0, RegionKind.L1_TABLE),
                        "overlaps the L1 table"),
                open(
                        Kind.V3_512,
                        "L1 entry pointing at the refcount table",
                        l1EntryAt(0, RegionKind.REFCOUNT_TABLE),
                        "overlaps the refcount table"),
                open(
                        Kind.V2_512,
                        "L1 entry pointing at the L1 table",
                        l1EntryAt(0, RegionKind.L1_TABLE),
                        "overlaps the L1 table"),
                open(
                        Kind.V3_64K,
                        "L1 table placed on the refcount table",
                        (p, l) -> putLong(p, 40, l.header().refcountTableOffset()),
                        "overlaps"),
                atMost(
                        Kind.V3_64K,
                        "L2 entry past EOF",
                        l2Entry(0, e -> COPIED | (1L << 40)),
                        Stage.READ,
                        "beyond the end of the file"),
                atMost(
                        Kind.V3_512,
                        "L2 entry past EOF",
                        l2Entry(0, e -> COPIED | (1L << 30)),
                        Stage.READ,
                        "beyond the end of the file"),
                atMost(
                        Kind.OVERLAY,
                        "L2 entry past EOF without COPIED",
                        l2Entry(2 * MIB, e -> 1L << 40),
                        Stage.READ,
                        "beyond the end of the file"),
                atMost(Kind.V3_64K, "L2 entry unaligned", l2Entry(0, e -> e + 0x200), Stage.READ, "unaligned"),
                atMost(
                        Kind.V3_64K,
                        "zero-allocated L2 entry past EOF",
                        l2Entry(3 * MIB, e -> COPIED | (1L << 40) | 1),
                        Stage.WRITE,
                        "beyond the end of the file"),
                atMost(
                        Kind.V3_64K,
                        "zero-allocated L2 entry unaligned",
                        l2Entry(3 * MIB, e -> e + 0x200),
                        Stage.WRITE,
                        "unaligned"),
                atMost(
                        Kind.V3_64K,
                        "L2 entry with reserved bit 1",
                        l2Entry(0, e -> e | 2),
                        Stage.READ,
                        "reserved bits"),
                atMost(
                        Kind.V2_64K,
                        "L2 entry with reserved bit 56",
                        l2Entry(0, e -> e | (1L << 56)),
                        Stage.READ,
                        "reserved bits"),
                atMost(Kind.V2_64K, "L2 zero flag in a v2 image", l2Entry(0, e -> e | 1), Stage.READ, "pre-v3"),
                atMost(Kind.V2_512, "L2 zero flag in a v2 image", l2Entry(0, e -> e | 1), Stage.READ, "pre-v3"),
                open(
                        Kind.V3_64K,
                        "refcount table entry past EOF",
                        reftableEntry(0, e -> 1L << 40),
                        "beyond the end of the file"),
                open(
                        Kind.V3_512,
                        "refcount table entry past EOF",
                        reftableEntry(0, e -> 1L << 30),
                        "beyond the end of the file"),
                open(Kind.V3_64K, "refcount table entry unaligned", reftableEntry(0, e -> e + 0x200), "unaligned"),
                open(
                        Kind.V3_64K,
                        "refcount table entry with reserved bits",
                        reftableEntry(0, e -> e | 1),
                        "reserved bits"),
                atMost(
                        Kind.V3_64K,
                        "refcount table entry with bit 63 set",
                        reftableEntry(0, e -> e | (1L << 63)),
                        Stage.WRITE,
                        "refcount block"),
                atMost(
                        Kind.V3_64K,
                        "refcount table placed on the L1 table",
                        (p, l) -> putLong(p, 48, l.header().l1TableOffset()),
                        Stage.WRITE,
                        "refcount block|overlaps"),
                atMost(
                        Kind.COMPRESSED,
                        "compressed descriptor past EOF",
                        l2Entry(0, e -> (e & ~((1L << 54) - 1)) | (1L << 40)),
                        Stage.READ,
                        "beyond the end of the file"),
                atMost(
                        Kind.COMPRESSED,
                        "compressed data replaced by garbage",
                        compressedData(0, (byte) 0xFF),
                        Stage.READ,
                        "compressed cluster"),
                atMost(
                        Kind.COMPRESSED,
                        "compressed data replaced by zeros",
                        compressedData(0, (byte) 0),
                        Stage.READ,
                        "compressed cluster"),
                atMost(
                        Kind.COMPRESSED,
                        "compressed descriptor shifted into the middle of the stream",
                        l2Entry(0, e -> e + 100),
                        Stage.READ,
                        "compressed cluster"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("headerCases")
    void damagedHeaderFieldIsRefusedWithANamedBlockException(Case c) {
        assertRefused(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("extensionCases")
    void damagedExtensionOrBackingNameIsRefusedWithANamedBlockException(Case c) {
        assertRefused(c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tableCases")
    void damagedTableEntryIsRefusedWhereItIsTouched(Case c) {
        assertRefused(c);
    }

    private void assertRefused(Case c) {
        Path image = copyOf(c.kind());
        c.mutation().apply(image, LAYOUTS.get(c.kind()));
        Outcome outcome = probe(image, c.kind());
        BlockException failure = outcome.failure();
        assertThat(failure)
                .as("%s: the engine accepted the damaged image through every stage", c)
                .isNotNull();
        assertThat(outcome.stage())
                .as("%s: stage of the refusal (%s)", c, failure)
                .isLessThanOrEqualTo(c.failsBy());
        if (c.readOnlyWorks()) {
            assertThat(outcome.stage())
                    .as("%s: read-only use must work, refused with %s", c, failure)
                    .isGreaterThanOrEqualTo(Stage.OPEN_WRITABLE);
        }
        assertThat(Arrays.stream(c.message().split("\\|"))
                        .anyMatch(m -> failure.getMessage()
                                .toLowerCase(java.util.Locale.ROOT)
                                .contains(m.toLowerCase(java.util.Locale.ROOT))))
                .as("%s: message %s names the problem (%s)", c, failure.getMessage(), c.message())
                .isTrue();
        assertThat(failure.kind())
                .as("%s: kind of %s", c, failure)
                .isIn(
                        BlockErrorKind.INVALID_IMAGE,
                        BlockErrorKind.UNSUPPORTED,
                        BlockErrorKind.READ_ONLY,
                        BlockErrorKind.INVALID_ARGUMENT);
    }

    /**
     * refcount_order is a u32 on disk; 0xffffffff must be refused like 7 (QEMU: "Reference count
     * entry width too large; may not exceed 64 bits"), not read as -1, which makes the refcount
     * block hold 0 entries and the first allocation divide by zero.
     */
    @Test
    void refcountOrderOf0xffffffffIsRefusedLikeAnyOrderAboveSix() {
        assertRefused(open(Kind.V3_64K, "refcount_order 0xffffffff", putInt(96, -1), "width too large"));
    }

    // ================================================================ metadata overlap on writes

    static Stream<Arguments> metadataTargets() {
        List<Arguments> out = new ArrayList<>();
        for (Kind kind : List.of(Kind.V3_64K, Kind.V3_512, Kind.V2_512)) {
            for (RegionKind target : List.of(
                    RegionKind.REFCOUNT_TABLE, RegionKind.REFCOUNT_BLOCK, RegionKind.L1_TABLE, RegionKind.L2_TABLE)) {
                out.add(Arguments.of(kind, target, false));
            }
            if (kind != Kind.V2_512) {
                out.add(Arguments.of(kind, RegionKind.L1_TABLE, true));
            }
        }
        return out.stream();
    }

    /**
     * An L1 or L2 entry whose offset is 0 (even with COPIED set) means "nothing here", as in
     * QEMU: the guest range reads as unallocated, and a write there allocates fresh clusters
     * instead of landing on the header in cluster 0. What the entry used to map is leaked.
     */
    @ParameterizedTest(name = "{0} entry of guest 0 set to COPIED | 0 in {1}")
    @MethodSource("offsetZeroEntries")
    void tableEntryNamingOffsetZeroIsUnallocatedAndAWriteThereNeverTouchesTheHeader(String table, Kind kind) {
        Path image = copyOf(kind);
        Layout layout = LAYOUTS.get(kind);
        int cs = layout.clusterSize();
        if (table.equals("L1")) {
            ImageMutations.putLong(image, layout.header().l1TableOffset(), COPIED);
        } else {
            Qcow2Surgery.setL2Entry(image, 0, COPIED);
        }
        byte[] header = ImageMutations.read(image, 0, cs);
        byte[] data = new byte[4096];
        Arrays.fill(data, (byte) 0x6E);

        byte[] read = new byte[cs];
        within(() -> {
            try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, false)) {
                img.read(0, ByteBuffer.wrap(read));
                img.write(0, ByteBuffer.wrap(data));
                img.flush();
            }
            return new Outcome(null, null, null);
        });

        assertThat(read).as("guest cluster 0 before the write").containsOnly(0);
        assertThat(ImageMutations.read(image, 0, cs)).as("cluster 0 (header)").isEqualTo(header);
        assertThat(qemu.readsPattern(image, 0, data.length, 0x6E)).isTrue();
        assertThat(qemu.check(image).isCleanOrLeaksOnly()).isTrue();
    }

    static Stream<Arguments> offsetZeroEntries() {
        return Stream.of(
                Arguments.of("L1", Kind.V3_64K),
                Arguments.of("L1", Kind.V2_512),
                Arguments.of("L2", Kind.V3_64K),
                Arguments.of("L2", Kind.V3_512));
    }

    /**
     * A hostile L2 entry claims (COPIED, refcount 1) that guest cluster 0 lives in a metadata
     * cluster. Reading it shows the metadata bytes, as QEMU does; writing must be refused, as
     * QEMU's pre-write overlap check does, and the metadata must stay as it was.
     */
    @ParameterizedTest(name = "{0}: L2 entry (zero flag: {2}) pointing at the {1}")
    @MethodSource("metadataTargets")
    void inPlaceWriteToAClusterThatIsReallyMetadataIsRefusedAndLeavesItIntact(
            Kind kind, RegionKind target, boolean zeroFlag) {
        Path image = copyOf(kind);
        Layout layout = LAYOUTS.get(kind);
        int cs = layout.clusterSize();
        long host = layout.first(target).start() & -(long) cs;
        Qcow2Surgery.setL2Entry(image, 0, COPIED | host | (zeroFlag ? 1 : 0));
        byte[] before = ImageMutations.read(image, host, cs);

        Outcome outcome = within(() -> {
            try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, false)) {
                byte[] data = new byte[512];
                Arrays.fill(data, (byte) 0xEE);
                try {
                    img.write(0, ByteBuffer.wrap(data));
                } catch (BlockException e) {
                    BlockException again = null;
                    try {
                        img.write(0, ByteBuffer.wrap(data));
                    } catch (BlockException e2) {
                        again = e2;
                    }
                    assertThat(again).as("a second write after the refusal").isNotNull();
                    return new Outcome(e, Stage.WRITE, null);
                }
                img.flush();
            }
            return new Outcome(null, null, null);
        });

        assertThat(outcome.failure())
                .as("write into the %s through a hostile L2 entry", target)
                .isNotNull();
        assertThat(outcome.failure().getMessage()).containsIgnoringCase("overlaps");
        assertThat(ImageMutations.read(image, host, cs))
                .as("the %s after the refused write", target)
                .isEqualTo(before);
    }

    /**
     * A dirty image (lazy refcounts, then a crash) has refcounts that may be too low. It reads
     * fine read-only; a writable open must either refuse it (naming the dirty bit) or rebuild the
     * refcounts first and clear the bit, as QEMU does, leaving an image {@code qemu-img check}
     * finds clean. The refcount of the first data cluster is zeroed to make the staleness real.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Kind.class,
            names = {"V3_64K", "V3_512", "COMPRESSED"})
    void dirtyImageReadsAndIsRefusedOrRepairedBeforeAnyWrite(Kind kind) {
        Path image = copyOf(kind);
        Layout layout = LAYOUTS.get(kind);
        ImageMutations.putLong(image, 72, 1L);
        Region data = layout.regions().stream()
                .filter(r -> r.kind() == RegionKind.DATA || r.kind() == RegionKind.COMPRESSED)
                .findFirst()
                .orElseThrow();
        Qcow2Surgery.setRefcount(image, data.start(), 0);

        Outcome outcome = probe(image, kind);

        if (outcome.failure() != null) {
            assertThat(outcome.stage())
                    .as("refused at %s: %s", outcome.stage(), outcome.failure())
                    .isEqualTo(Stage.OPEN_WRITABLE);
            assertThat(outcome.failure().getMessage()).containsIgnoringCase("dirty");
        } else {
            assertThat(ImageMutations.getLong(image, 72) & 1)
                    .as("dirty bit after a writable session")
                    .isZero();
            AssertImages.assertCheckClean(image);
        }
        assertThat(outcome.content()).as("guest content read-only").isEqualTo(CONTENT.get(kind));
    }

    /**
     * A hostile dirty image: 2 MiB clusters, and an L1 table of 256 Ki entries that all point at
     * the same L2 table of 256 Ki entries. Rebuilding refcounts by walking every L1 entry's table
     * is 2^36 steps; a writable open must refuse it or finish promptly (qcow2-notes §11: bound the
     * work, put a time budget on scans), never spin for minutes.
     */
    @Test
    void dirtyImageWhoseL1EntriesAllShareOneL2TableIsRefusedOrRepairedPromptly() {
        Path image = dir.resolve("shared-l2.qcow2");
        qemu.create(image, "qcow2", "4M", "-o", "cluster_size=2M,compat=1.1");
        qemu.io(image, "qcow2", "write -P 0x71 0 64k");
        Layout layout = ImageMutations.layout(image);
        long l2 = layout.first(RegionKind.L2_TABLE).start();
        int entries = 1 << 18;
        ByteBuffer l1 = ByteBuffer.allocate(entries * 8);
        for (int i = 0; i < entries; i++) {
            l1.putLong(COPIED | l2);
        }
        ImageMutations.write(image, layout.header().l1TableOffset(), l1.array());
        ImageMutations.putInt(image, 36, entries);
        ImageMutations.putLong(image, 72, 1L);

        Outcome outcome = within(() -> {
            try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, false)) {
                return new Outcome(null, null, null);
            } catch (BlockException e) {
                return new Outcome(e, Stage.OPEN_WRITABLE, null);
            }
        });

        if (outcome.failure() != null) {
            assertThat(outcome.failure().kind()).isIn(BlockErrorKind.INVALID_IMAGE, BlockErrorKind.UNSUPPORTED);
        }
    }

    /**
     * A refcount table entry that points at the L1 table makes the L1 cluster double as a
     * refcount block. Updating a refcount there overwrites L1 entries (QEMU's pre-write overlap
     * check refuses such a write). The writes go into existing L2 tables, so no legitimate L1
     * change happens: the engine must refuse, and the L1 cluster must stay as it was.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Kind.class,
            names = {"V3_64K", "V3_512", "V2_512"})
    void refcountBlockOverlappingTheL1TableIsNeverWrittenOverIt(Kind kind) {
        Path image = copyOf(kind);
        Layout layout = LAYOUTS.get(kind);
        int cs = layout.clusterSize();
        long l1Cluster = layout.header().l1TableOffset() & -(long) cs;
        ImageMutations.putLong(image, layout.header().refcountTableOffset(), l1Cluster);
        byte[] l1Before = ImageMutations.read(image, l1Cluster, cs);
        long[] guests = kind == Kind.V3_64K ? new long[] {2560 * KIB, 2624 * KIB} : new long[] {8 * KIB, 12 * KIB};

        Outcome outcome = within(() -> {
            Stage stage = Stage.OPEN_WRITABLE;
            try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, false)) {
                stage = Stage.WRITE;
                for (long guest : guests) {
                    img.write(guest, ByteBuffer.wrap(new byte[cs]).put(0, (byte) 0x77));
                }
                img.flush();
            } catch (BlockException e) {
                return new Outcome(e, stage, null);
            }
            return new Outcome(null, null, null);
        });

        byte[] l1After = ImageMutations.read(image, l1Cluster, cs);
        int first = Arrays.mismatch(l1After, l1Before);
        assertThat(first)
                .as(
                        "first byte of the L1 cluster (also named as refcount block 0) that changed: "
                                + "L1 table is [0x%x, +%d)",
                        layout.header().l1TableOffset() - l1Cluster,
                        layout.header().l1Size() * 8)
                .isEqualTo(-1);
        assertThat(outcome.failure())
                .as("writes that update a refcount block lying on the L1 table")
                .isNotNull();
    }

    // ================================================================ huge sizes

    /**
     * A few-KiB file claiming a petabyte and a 16 MiB L1 must be refused from the header alone:
     * no allocation in proportion to the claimed size (CVE-2015-5162 class).
     */
    @Test
    void petabyteImageInATinyFileIsRefusedWithoutAllocatingProportionally() {
        Path image = copyOf(Kind.V3_64K);
        ImageMutations.putLong(image, 24, PIB);
        ImageMutations.putInt(image, 36, 1 << 21);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

        long[] allocated = new long[1];
        Outcome outcome = within(() -> {
            long before = threads.getCurrentThreadAllocatedBytes();
            try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, true)) {
                return new Outcome(null, null, null);
            } catch (BlockException e) {
                return new Outcome(e, Stage.OPEN_READ_ONLY, null);
            } finally {
                allocated[0] = threads.getCurrentThreadAllocatedBytes() - before;
            }
        });

        assertThat(outcome.failure()).isNotNull();
        assertThat(outcome.failure().getMessage()).contains("beyond the end of the file");
        assertThat(allocated[0]).as("bytes allocated while refusing").isLessThan(8 * MIB);
    }

    /**
     * A sparse file of a few MiB that really holds a 16 MiB L1 for a 1 PiB guest (what {@code
     * qemu-img create -f qcow2 x 1P} makes): opening, reading and asking for the allocation of the
     * whole guest must finish promptly, skipping unmapped L1 ranges instead of visiting each of
     * the 2^34 clusters (qcow2-notes §11: no scan in proportion to the claimed size).
     */
    @Test
    void petabyteImageAnswersBlockStatusOfTheWholeGuestWithoutVisitingEveryCluster() {
        Path copy = dir.resolve("petabyte.qcow2");
        qemu.create(copy, "qcow2", "1P", "-o", "cluster_size=65536");
        qemu.io(copy, "qcow2", "write -P 0x61 0 64k", "write -P 0x62 " + (PIB - 64 * KIB) + " 64k");

        List<dev.blockpull.format.Extent> extents = assertTimeoutPreemptively(
                PROBE_TIMEOUT,
                () -> {
                    try (Image img = ImageOpener.open(copy, ImageFormat.QCOW2, true)) {
                        ByteBuffer tail = ByteBuffer.allocate(64 * (int) KIB);
                        img.read(PIB - 64 * KIB, tail);
                        assertThat(tail.get(0)).isEqualTo((byte) 0x62);
                        return img.blockStatus(0, img.virtualSize());
                    }
                },
                () -> "blockStatus of a 1 PiB image did not finish within " + PROBE_TIMEOUT);

        assertThat(extents).hasSize(3);
        assertThat(extents.get(2).end()).isEqualTo(PIB);
    }

    // ================================================================ truncation

    static Stream<Arguments> truncations() {
        List<Arguments> out = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            Layout layout = ImageMutations.layout(corpusPath(kind));
            int cs = layout.clusterSize();
            TreeSet<Long> lengths = new TreeSet<>(List.of(
                    0L,
                    1L,
                    4L,
                    8L,
                    71L,
                    72L,
                    100L,
                    103L,
                    104L,
                    111L,
                    112L,
                    511L,
                    512L,
                    cs - 1L,
                    (long) cs,
                    cs + 8L,
                    layout.fileSize() - 1));
            for (Region r : layout.regions()) {
                lengths.add(r.start());
                lengths.add(r.start() + 1);
                lengths.add(r.end() - 1);
                if (r.kind() == RegionKind.DATA) {
                    lengths.add(r.start() + cs / 2);
                }
            }
            for (long length : lengths) {
                if (length >= 0 && length < layout.fileSize()) {
                    out.add(Arguments.of(kind, length, layout.describe(length)));
                }
            }
        }
        return out.stream();
    }

    /**
     * A file cut anywhere: a cut into metadata, or before the start of a data or compressed
     * cluster, is refused at open or at the read that needs it; a cut inside the last data
     * cluster reads that cluster's missing tail as zeros (a short last cluster is legal, §1),
     * and everything else reads exactly as before.
     */
    @ParameterizedTest(name = "{0} cut to {1} bytes ({2})")
    @MethodSource("truncations")
    void truncatedFileIsRefusedOrReadsWhatIsLeft(Kind kind, long length, String where) {
        Layout layout = LAYOUTS.get(kind);
        Path image = copyOf(kind);
        ImageMutations.setLength(image, length);
        boolean mustFail = layout.regions().stream()
                .anyMatch(r -> r.kind().isMetadata()
                        ? r.end() > length
                        : r.kind() != RegionKind.ZERO_ALLOC && r.start() >= length);

        Outcome outcome = probe(image, kind);

        if (mustFail) {
            assertThat(outcome.failure())
                    .as("the engine accepted %s cut to %d bytes, %s", kind, length, where)
                    .isNotNull();
            assertThat(outcome.stage()).as("stage, %s", outcome.failure()).isLessThanOrEqualTo(Stage.READ);
            assertThat(outcome.failure().kind()).isEqualTo(BlockErrorKind.INVALID_IMAGE);
        } else if (outcome.content() != null) {
            byte[] expected = CONTENT.get(kind).clone();
            for (Region r : layout.of(RegionKind.DATA)) {
                if (r.start() < length && length < r.end()) {
                    Arrays.fill(
                            expected,
                            (int) (r.guest() + (length - r.start())),
                            (int) (r.guest() + (r.end() - r.start())),
                            (byte) 0);
                }
            }
            int first = Arrays.mismatch(outcome.content(), expected);
            assertThat(first)
                    .as(
                            "%s cut to %d bytes (%s): first guest byte read differently (engine %s, expected %s)",
                            kind,
                            length,
                            where,
                            first < 0 ? "" : String.format("0x%02x", outcome.content()[first]),
                            first < 0 ? "" : String.format("0x%02x", expected[first]))
                    .isEqualTo(-1);
        }
    }

    // ================================================================ fuzz

    /**
     * Seeded random damage to the header, the extensions, the refcount table and block, the L1
     * table and the L2 entries in use, 60 mutations per image kind (1 to 4 changed bytes each).
     * Only the contract is checked: a BlockException or success, never another exception, never
     * a hang.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void randomByteDamageGivesABlockExceptionOrSuccessNeverAnythingElse(Kind kind) {
        Layout layout = LAYOUTS.get(kind);
        Random random = new Random(0xB10C_0000L + kind.ordinal());
        List<String> problems = new ArrayList<>();
        int refused = 0;
        for (int i = 0; i < 60; i++) {
            Path image = ImageMutations.copy(corpusPath(kind), dir.resolve("fuzz-" + i + ".qcow2"));
            List<String> changes = new ArrayList<>();
            int n = 1 + random.nextInt(4);
            for (int k = 0; k < n; k++) {
                long pos = fuzzPosition(random, corpusPath(kind), layout);
                byte old = ImageMutations.read(image, pos, 1)[0];
                byte b = random.nextBoolean() ? (byte) (old ^ (1 << random.nextInt(8))) : (byte) random.nextInt(256);
                ImageMutations.write(image, pos, new byte[] {b});
                changes.add(String.format("0x%x: %02x->%02x (%s)", pos, old & 0xFF, b & 0xFF, layout.describe(pos)));
            }
            try {
                Outcome outcome = probe(image, kind);
                if (outcome.failure() != null) {
                    refused++;
                }
            } catch (Throwable t) {
                problems.add("mutation " + i + " " + changes + ": " + t);
            }
            ImageMutations.setLength(image, 0);
        }
        assertThat(problems)
                .as("mutations the engine answered with something else than a BlockException")
                .isEmpty();
        assertThat(refused)
                .as("mutations refused (the fuzzer must reach the checks)")
                .isPositive();
    }

    /** A position in the header, the extensions or a table of {@code original} (which is not damaged). */
    private static long fuzzPosition(Random random, Path original, Layout layout) {
        int roll = random.nextInt(100);
        if (roll < 35) {
            return random.nextInt(layout.header().version() >= 3 ? 112 : 72);
        }
        if (roll < 45) {
            Region header = layout.first(RegionKind.HEADER);
            return header.start() + random.nextInt((int) Math.min(header.end(), 1024));
        }
        if (roll < 55) {
            return layout.header().refcountTableOffset() + random.nextInt(64);
        }
        if (roll < 65) {
            return layout.first(RegionKind.REFCOUNT_BLOCK).start() + random.nextInt(64);
        }
        if (roll < 75) {
            return layout.header().l1TableOffset()
                    + random.nextInt(Math.max(8, Math.min(64, layout.header().l1Size() * 8)));
        }
        List<Long> guests = layout.dataGuestOffsets();
        long guest = guests.get(random.nextInt(guests.size()));
        return Qcow2Surgery.l2EntryPosition(original, guest) + random.nextInt(8);
    }

    // ================================================================ probing

    /**
     * What a probe found: the refusal and its stage (both null when the engine accepted
     * everything), and the guest content the read-only stage saw (null unless it read it all).
     */
    record Outcome(
            @Nullable BlockException failure, @Nullable Stage stage, byte @Nullable [] content) {}

    /**
     * Opens the image read-only, reads its whole guest (up to 8 MiB) and asks for its allocation;
     * then opens it writable, writes into every cluster that held data (in place, or by
     * copy-on-write of a compressed cluster), into an unallocated cluster, zeroes a cluster, and
     * flushes. Stops at the first BlockException; anything else thrown fails the test, and so
     * does a probe that takes longer than 10 s.
     */
    private static Outcome probe(Path image, Kind kind) {
        List<Long> targets = LAYOUTS.get(kind).dataGuestOffsets();
        return assertTimeoutPreemptively(
                PROBE_TIMEOUT, () -> probeNow(image, targets), () -> "the engine hung on " + image.getFileName());
    }

    private static Outcome probeNow(Path image, List<Long> targets) {
        Stage stage = Stage.OPEN_READ_ONLY;
        byte[] content;
        byte[] readAll = null;
        try {
            try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, true)) {
                stage = Stage.READ;
                long size = img.virtualSize();
                content = new byte[(int) Math.min(size, READ_LIMIT)];
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) {
                    img.read(buf.position(), buf.slice(buf.position(), Math.min(buf.remaining(), (int) MIB)));
                    buf.position(buf.position() + Math.min(buf.remaining(), (int) MIB));
                }
                if (size > READ_LIMIT) {
                    img.read(size - 4096, ByteBuffer.allocate(4096));
                }
                img.blockStatus(0, Math.min(size, 1L << 30));
                readAll = content;
            }
            stage = Stage.OPEN_WRITABLE;
            Image img = ImageOpener.open(image, ImageFormat.QCOW2, false);
            stage = Stage.WRITE;
            try (img) {
                long size = img.virtualSize();
                int cs = img.clusterSize();
                byte[] data = new byte[4096];
                Arrays.fill(data, (byte) 0x5A);
                for (long guest : targets) {
                    if (guest + 512 + data.length <= size) {
                        img.write(guest + 512, ByteBuffer.wrap(data));
                    }
                }
                long spare = (size / 2) & -(long) cs;
                if (spare + data.length <= size) {
                    img.write(spare, ByteBuffer.wrap(data));
                }
                if (!targets.isEmpty() && targets.get(0) + cs <= size) {
                    img.writeZeroes(targets.get(0), cs, true);
                }
                img.flush();
            }
            return new Outcome(null, null, readAll);
        } catch (BlockException e) {
            return new Outcome(e, stage, readAll);
        } catch (Throwable t) {
            throw new AssertionError(
                    "the engine threw " + t + " at stage " + stage + " on " + image.getFileName()
                            + " instead of a BlockException",
                    t);
        }
    }

    private static Outcome within(java.util.function.Supplier<Outcome> action) {
        return assertTimeoutPreemptively(PROBE_TIMEOUT, () -> {
            try {
                return action.get();
            } catch (BlockException e) {
                return new Outcome(e, Stage.WRITE, null);
            } catch (AssertionError e) {
                throw e;
            } catch (Throwable t) {
                throw new AssertionError("the engine threw " + t + " instead of a BlockException", t);
            }
        });
    }

    // ================================================================ corpus helpers

    private static Path corpusPath(Kind kind) {
        return corpus.resolve(kind.file);
    }

    private Path copyOf(Kind kind) {
        if (kind == Kind.OVERLAY) {
            ImageMutations.copy(corpus.resolve("overlay-base.qcow2"), dir.resolve("overlay-base.qcow2"));
        }
        return ImageMutations.copy(corpusPath(kind), dir.resolve(kind.file));
    }

    /** This image's own layer through the engine, the backing file not consulted. */
    private static byte[] readOwnLayer(Path image) {
        try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, true)) {
            byte[] content = new byte[(int) Math.min(img.virtualSize(), READ_LIMIT)];
            img.read(0, ByteBuffer.wrap(content));
            return content;
        }
    }

    private static Case open(Kind kind, String name, Mutation m, String message) {
        return new Case(name, kind, m, Stage.OPEN_READ_ONLY, false, message);
    }

    private static Case readOnly(Kind kind, String name, Mutation m, String message) {
        return new Case(name, kind, m, Stage.OPEN_WRITABLE, true, message);
    }

    private static Case atMost(Kind kind, String name, Mutation m, Stage stage, String message) {
        return new Case(name, kind, m, stage, false, message);
    }

    private static Mutation putInt(long pos, int value) {
        return (p, l) -> ImageMutations.putInt(p, pos, value);
    }

    private static Mutation putLong(long pos, long value) {
        return (p, l) -> ImageMutations.putLong(p, pos, value);
    }

    private static Mutation putByte(long pos, int value) {
        return (p, l) -> ImageMutations.putByte(p, pos, value);
    }

    private static void putLong(Path p, long pos, long value) {
        ImageMutations.putLong(p, pos, value);
    }

    private static void putInt(Path p, long pos, int value) {
        ImageMutations.putInt(p, pos, value);
    }

    private static void putByte(Path p, long pos, int value) {
        ImageMutations.putByte(p, pos, value);
    }

    private static Mutation all(Mutation... ms) {
        return (p, l) -> {
            for (Mutation m : ms) {
                m.apply(p, l);
            }
        };
    }

    private static Mutation withExtensions(java.util.function.UnaryOperator<List<Extension>> change) {
        return (p, l) -> ImageMutations.rewriteExtensions(
                p, change.apply(new ArrayList<>(ImageMutations.extensions(p))), ImageMutations.backingName(p));
    }

    private static Mutation l1Entry(int index, LongUnaryOperator change) {
        return (p, l) -> {
            long pos = l.header().l1TableOffset() + index * 8L;
            ImageMutations.putLong(p, pos, change.applyAsLong(ImageMutations.getLong(p, pos)));
        };
    }

    private static Mutation l1EntryAt(int index, RegionKind target) {
        return (p, l) -> ImageMutations.putLong(
                p,
                l.header().l1TableOffset() + index * 8L,
                COPIED | (l.first(target).start() & -(long) l.clusterSize()));
    }

    private static Mutation l2Entry(long guest, LongUnaryOperator change) {
        return (p, l) -> Qcow2Surgery.setL2Entry(p, guest, change.applyAsLong(Qcow2Surgery.l2Entry(p, guest)));
    }

    private static Mutation reftableEntry(int index, LongUnaryOperator change) {
        return (p, l) -> {
            long pos = l.header().refcountTableOffset() + index * 8L;
            ImageMutations.putLong(p, pos, change.applyAsLong(ImageMutations.getLong(p, pos)));
        };
    }

    /** Overwrites the compressed stream of the n-th compressed cluster. */
    private static Mutation compressedData(int n, byte fill) {
        return (p, l) -> {
            Region r = l.of(RegionKind.COMPRESSED).get(n);
            byte[] bytes = new byte[(int) (r.end() - r.start())];
            Arrays.fill(bytes, fill);
            ImageMutations.write(p, r.start(), bytes);
        };
    }
}
