package dev.blockpull.graph;

import static dev.blockpull.testsupport.AssertImages.assertCheckClean;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.format.ChainExtent;
import dev.blockpull.format.ExtentKind;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.ChainShape;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.MapEntry;
import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Chains made by qemu-img/qemu-io read through the graph exactly as qemu-img sees them: content
 * equals {@code qemu-img convert -O raw}, the map equals {@code qemu-img map --output=json}.
 */
class ChainContentTests {

    @TempDir
    Path dir;

    QemuTools qemu;
    GraphFixture fx;

    @BeforeEach
    void setUp() {
        qemu = QemuTools.require();
        fx = new GraphFixture(dir);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    static Stream<ChainShape> shapes() {
        ChainShape standard = ChainShape.standard();
        return Stream.of(
                standard,
                standard.withShortMid(Chains.MIB),
                standard.withRawBase(),
                standard.withRawBase().withShortMid(Chains.MIB),
                standard.withClusterSizes(4096, 65536, 16384),
                standard.withCompat("0.10"));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void contentThroughTheGraphEqualsQemuImgConvert(ChainShape shape) throws IOException {
        Chain chain = Chains.baseMidTop(qemu, dir, shape);
        FormatNode top = fx.open("top", "top.qcow2");

        byte[] actual = GraphFixture.readAll(top);

        Path raw = dir.resolve("expected.raw");
        qemu.convertToRaw(chain.top(), raw);
        assertThat(actual).as("graph read vs qemu-img convert of %s", chain).isEqualTo(Files.readAllBytes(raw));
        assertThat(actual).isEqualTo(chain.expected());
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void unalignedReadsAcrossLayerBoundariesSeeTheSameBytes(ChainShape shape) {
        Chain chain = Chains.baseMidTop(qemu, dir, shape);
        FormatNode top = fx.open("top", "top.qcow2");
        byte[] expected = chain.expected();

        for (long[] r : new long[][] {
            {700 * 1024 + 100, 2000}, {60 * 1024, 200 * 1024}, {Chains.MIB - 7, 70_000}, {expected.length - 3000, 3000}
        }) {
            ByteBuffer buf = ByteBuffer.allocate((int) r[1]);
            top.read(r[0], buf);
            byte[] want = java.util.Arrays.copyOfRange(expected, (int) r[0], (int) (r[0] + r[1]));
            assertThat(buf.array()).as("bytes %d+%d", r[0], r[1]).isEqualTo(want);
        }
    }

    @ParameterizedTest
    @MethodSource("qcow2Shapes")
    void mapEqualsQemuImgMap(ChainShape shape) {
        Chain chain = Chains.baseMidTop(qemu, dir, shape);
        FormatNode top = fx.open("top", "top.qcow2");

        List<ChainExtent> map = BackingChain.map(top, 0, top.length());

        assertThat(normalize(fromGraph(map))).isEqualTo(normalize(fromQemu(qemu.map(chain.top()))));
    }

    static Stream<ChainShape> qcow2Shapes() {
        ChainShape standard = ChainShape.standard();
        return Stream.of(
                standard,
                standard.withShortMid(Chains.MIB),
                standard.withClusterSizes(4096, 65536, 16384),
                standard.withCompat("0.10"));
    }

    @ParameterizedTest
    @MethodSource("qcow2Shapes")
    void writesThroughTheGraphLandInTheTopAndPassQemuImgCheck(ChainShape shape) {
        Chain chain = Chains.baseMidTop(qemu, dir, shape);
        FormatNode top = fx.open("top", "top.qcow2");
        byte[] expected = chain.expected();

        // a partial cluster over base data (copy-on-write through the graph), and zeroes over mid data
        ByteBuffer data = ByteBuffer.allocate(3000);
        java.util.Arrays.fill(data.array(), (byte) 0x5a);
        top.write(Chains.MIB + 1000, data);
        java.util.Arrays.fill(expected, (int) Chains.MIB + 1000, (int) Chains.MIB + 4000, (byte) 0x5a);
        top.writeZeroes(64 * 1024, 64 * 1024, false);
        java.util.Arrays.fill(expected, 64 * 1024, 128 * 1024, (byte) 0);
        top.flush();
        fx.close();

        assertCheckClean(chain.top());
        dev.blockpull.testsupport.AssertImages.assertContent(chain.top(), expected);
    }

    /** (start, length, depth, zero, data) rows, merged where qemu-img's keys repeat, as nodes.py compares. */
    record Row(long start, long length, int depth, boolean zero, boolean data) {}

    static List<Row> fromGraph(List<ChainExtent> map) {
        return map.stream()
                .map(e -> new Row(
                        e.offset(), e.length(), e.depth(), e.kind() != ExtentKind.DATA, e.kind() == ExtentKind.DATA))
                .toList();
    }

    static List<Row> fromQemu(List<MapEntry> map) {
        return map.stream()
                .map(e -> new Row(e.start(), e.length(), e.depth(), e.zero(), e.data()))
                .toList();
    }

    static List<Row> normalize(List<Row> rows) {
        List<Row> out = new ArrayList<>();
        for (Row r : rows) {
            Row p = out.isEmpty() ? null : out.get(out.size() - 1);
            if (p != null
                    && p.depth == r.depth
                    && p.zero == r.zero
                    && p.data == r.data
                    && p.start + p.length == r.start) {
                out.set(out.size() - 1, new Row(p.start, p.length + r.length, p.depth, p.zero, p.data));
            } else {
                out.add(Objects.requireNonNull(r));
            }
        }
        return out;
    }
}
