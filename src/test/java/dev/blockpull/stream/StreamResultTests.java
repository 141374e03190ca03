package dev.blockpull.stream;

import static dev.blockpull.testsupport.AssertImages.assertBacking;
import static dev.blockpull.testsupport.AssertImages.assertChainLength;
import static dev.blockpull.testsupport.AssertImages.assertCheckClean;
import static dev.blockpull.testsupport.AssertImages.assertContent;
import static dev.blockpull.testsupport.AssertImages.assertNotDirtyNorCorrupt;
import static dev.blockpull.testsupport.AssertImages.assertSameContent;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.job.JobResult;
import dev.blockpull.job.JobView;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.ChainShape;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.MapEntry;
import dev.blockpull.testsupport.QemuTools;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What a stream leaves behind, judged by qemu-img: content, header, allocation, integrity. */
class StreamResultTests {

    static final long MIB = StreamFixture.MIB;

    @TempDir
    Path dir;

    QemuTools qemu;
    StreamFixture fx;

    @BeforeEach
    void setUp() {
        qemu = QemuTools.require();
        fx = new StreamFixture(dir);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    static Stream<ChainShape> shapes() {
        ChainShape std = ChainShape.standard();
        return Stream.of(
                std,
                std.withRawBase(),
                std.withCompat("0.10"),
                std.withClusterSizes(4096, 65536, 16384),
                std.withClusterSizes(65536, 4096, 131072));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    @DisplayName("checklist 1: only device on base<-mid<-top: top holds every byte, no backing, content unchanged")
    void checklist01_fullStream(ChainShape shape) {
        Chain chain = Chains.baseMidTop(qemu, dir, shape);
        Path before = fx.snapshotRaw(chain.top(), "before.raw");
        FormatNode top = fx.openBaseMidTop(chain.layers().get(2).name());

        JobView started = fx.start(Req.device("top").build());
        JobView done = fx.awaitFinished(started.id());

        assertThat(done.result()).as("%s", done).isEqualTo(JobResult.COMPLETED);
        assertThat(BackingChain.cow(top)).as("graph: no backing link").isNull();
        assertThat(fx.filters()).isEmpty();
        fx.close();
        assertBacking(chain.top(), null, null);
        assertChainLength(chain.top(), 1);
        assertSameContent(before, chain.top());
        assertContent(chain.top(), chain.expected());
        assertCheckClean(chain.top());
        assertNotDirtyNorCorrupt(chain.top());
    }

    @Test
    @DisplayName("checklist 2: baseNode = base: only mid's data is copied, backing = base's file name and format")
    void checklist02_baseNode() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        Path before = fx.snapshotRaw(chain.top(), "before.raw");
        List<MapEntry> mapBefore = qemu.map(chain.top());
        FormatNode top = fx.openBaseMidTop("base.qcow2");
        BlockNode base = fx.node("base");

        JobView done = fx.awaitFinished(
                fx.start(Req.device("top").id("s2").baseNode("base").build()).id());

        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(BackingChain.cow(top)).isSameAs(base);
        fx.close();
        assertBacking(chain.top(), "base.qcow2", "qcow2");
        assertChainLength(chain.top(), 2);
        assertSameContent(before, chain.top());
        assertCheckClean(chain.top());
        checklist18_mapIsUnionOf(mapBefore, qemu.map(chain.top()), 1);
    }

    @Test
    @DisplayName("checklist 2: base given by file name behaves as baseNode")
    void checklist02_baseByFileName() {
        Chain chain = Chains.baseMidTop(qemu, dir, ChainShape.standard().withRawBase());
        Path before = fx.snapshotRaw(chain.top(), "before.raw");
        fx.openBaseMidTop("base.raw");

        JobView done = fx.awaitFinished(
                fx.start(Req.device("top").base("base.raw").build()).id());

        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        fx.close();
        assertBacking(chain.top(), "base.raw", "raw");
        assertSameContent(before, chain.top());
        assertCheckClean(chain.top());
    }

    @Test
    @DisplayName("checklist 3: bottom = mid copies down to mid; the new backing is mid's backing node")
    void checklist03_bottom() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        Path before = fx.snapshotRaw(chain.top(), "before.raw");
        FormatNode top = fx.openBaseMidTop("base.qcow2");

        JobView done = fx.awaitFinished(
                fx.start(Req.device("top").bottom("mid").build()).id());

        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(BackingChain.cow(top)).isSameAs(fx.node("base"));
        fx.close();
        assertBacking(chain.top(), "base.qcow2", "qcow2");
        assertSameContent(before, chain.top());
        assertCheckClean(chain.top());
    }

    @Test
    @DisplayName("checklist 4: streaming into an intermediate (device = mid); the top above keeps mid as backing")
    void checklist04_intoIntermediate() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        Path before = fx.snapshotRaw(chain.top(), "before.raw");
        Path midBefore = fx.snapshotRaw(chain.path("mid.qcow2"), "mid-before.raw");
        FormatNode top = fx.openBaseMidTop("base.qcow2");
        BlockNode mid = fx.node("mid");

        JobView done = fx.awaitFinished(fx.start(Req.device("mid").build()).id());

        assertThat(done.id()).isEqualTo("mid");
        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(BackingChain.cow(top)).isSameAs(mid);
        assertThat(BackingChain.cow(mid)).isNull();
        fx.close();
        assertBacking(chain.path("mid.qcow2"), null, null);
        assertBacking(chain.top(), "mid.qcow2", "qcow2");
        assertSameContent(midBefore, chain.path("mid.qcow2"));
        assertSameContent(before, chain.top());
        assertCheckClean(chain.path("mid.qcow2"));
    }

    @Test
    @DisplayName("checklist 16: nothing to stream (base is top's backing): success, 0/0, allocation unchanged")
    void checklist16_nothingToStream() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        List<MapEntry> mapBefore = qemu.map(chain.top());
        fx.openBaseMidTop("base.qcow2");

        JobView done = fx.awaitFinished(
                fx.start(Req.device("top").baseNode("mid").build()).id());

        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(done.currentProgress()).isZero();
        assertThat(done.totalProgress()).isZero();
        fx.close();
        assertThat(qemu.map(chain.top())).isEqualTo(mapBefore);
        assertBacking(chain.top(), "mid.qcow2", "qcow2");
    }

    @Test
    @DisplayName("checklist 16: nothing to stream (top has no backing): success, 0/0")
    void checklist16_noBacking() {
        Chains.in(qemu, dir)
                .base("solo.qcow2", "qcow2", 2 * MIB)
                .write(0, 64 * 1024, 0x42)
                .build();
        fx.openChain(new String[] {"solo"}, new String[] {"solo.qcow2"});

        JobView done = fx.awaitFinished(fx.start(Req.device("solo").build()).id());

        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(done.totalProgress()).isZero();
        fx.close();
        assertBacking(dir.resolve("solo.qcow2"), null, null);
        assertCheckClean(dir.resolve("solo.qcow2"));
    }

    @Test
    @DisplayName(
            "checklist 17: backingFile is written verbatim, even with nothing to stream; the graph link stays on the base node")
    void checklist17_backingFileVerbatim() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        Path before = fx.snapshotRaw(chain.top(), "before.raw");
        FormatNode top = fx.openBaseMidTop("base.qcow2");
        BlockNode mid = fx.node("mid");

        JobView done = fx.awaitFinished(fx.start(Req.device("top")
                        .baseNode("mid")
                        .backingFile("./mid.qcow2")
                        .build())
                .id());

        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(done.totalProgress()).isZero();
        assertThat(BackingChain.cow(top)).isSameAs(mid);
        fx.close();
        assertBacking(chain.top(), "./mid.qcow2", "qcow2");
        assertSameContent(before, chain.top());
    }

    @Test
    @DisplayName("checklist 17: backingFile with a real stream is written verbatim")
    void checklist17_backingFileWithStream() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        Path before = fx.snapshotRaw(chain.top(), "before.raw");
        fx.openBaseMidTop("base.qcow2");

        JobView done = fx.awaitFinished(fx.start(Req.device("top")
                        .baseNode("base")
                        .backingFile("./base.qcow2")
                        .build())
                .id());

        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        fx.close();
        assertBacking(chain.top(), "./base.qcow2", "qcow2");
        assertSameContent(before, chain.top());
    }

    @Test
    @DisplayName("checklist 18: after a full stream top's allocation is the union of all layers' maps")
    void checklist18_fullStreamMap() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        List<MapEntry> mapBefore = qemu.map(chain.top());
        fx.openBaseMidTop("base.qcow2");

        fx.awaitFinished(fx.start(Req.device("top").build()).id());

        fx.close();
        checklist18_mapIsUnionOf(mapBefore, qemu.map(chain.top()), Integer.MAX_VALUE);
    }

    /** Top's own allocation after the stream = what layers 0..maxDepth supplied before. */
    private static void checklist18_mapIsUnionOf(List<MapEntry> before, List<MapEntry> after, int maxDepth) {
        TreeMap<Long, Long> expected = new TreeMap<>();
        for (MapEntry e : before) {
            if (e.present() && e.depth() <= maxDepth) {
                add(expected, e.start(), e.end());
            }
        }
        TreeMap<Long, Long> actual = new TreeMap<>();
        for (MapEntry e : after) {
            if (e.present() && e.depth() == 0) {
                add(actual, e.start(), e.end());
            }
        }
        assertThat(actual).as("allocated ranges of the top after the stream").isEqualTo(expected);
    }

    private static void add(TreeMap<Long, Long> ranges, long start, long end) {
        var last = ranges.lastEntry();
        if (last != null && last.getValue() == start) {
            ranges.put(last.getKey(), end);
        } else {
            ranges.put(start, end);
        }
    }

    @Test
    @DisplayName("checklist 19: total = device length once running; current only grows; current == total at the end")
    void checklist19_progress() throws Exception {
        Chain chain = Chains.baseMidTop(qemu, dir);
        fx.openBaseMidTop("base.qcow2");
        var gate = fx.images.file(chain.path("mid.qcow2")).gate();
        gate.close();
        JobView v = fx.start(Req.device("top").id("p").build());
        assertThat(gate.awaitWaiting(1, StreamFixture.WAIT)).isTrue();
        JobView running = fx.view("p");
        assertThat(running.totalProgress()).isEqualTo(chain.layers().get(0).size());
        long seen = running.currentProgress();
        gate.open();
        JobView done = fx.awaitFinished(v.id());
        assertThat(done.currentProgress())
                .isGreaterThanOrEqualTo(seen)
                .isEqualTo(done.totalProgress())
                .isEqualTo(chain.layers().get(0).size());
    }

    @Test
    @DisplayName("checklist 36: success emits created, running, waiting, pending, concluded, null in order")
    void checklist36_eventOrder() {
        Chains.baseMidTop(qemu, dir);
        fx.openBaseMidTop("base.qcow2");
        fx.start(Req.device("top").id("ev").build());
        List<String> trail = fx.awaitTrailEnd("ev", "null");
        assertThat(trail)
                .containsExactly(
                        "created", "running", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null");
    }

    static Stream<ChainShape> shortShapes() {
        ChainShape std = ChainShape.standard();
        return Stream.of(
                std.withShortMid(MIB),
                std.withShortMid(MIB).withRawBase(),
                std.withShortMid(2 * MIB).withClusterSizes(65536, 4096, 65536));
    }

    @ParameterizedTest
    @MethodSource("shortShapes")
    @DisplayName(
            "checklist 46 + Blockpull rule 3.1: a direct backing shorter than top: content equals qemu-img rebase (safe)")
    void checklist46_shortDirectBacking(ChainShape shape) {
        Chain chain = Chains.baseMidTop(qemu, dir, shape);
        String baseFile = chain.layers().get(2).name();
        Path before = fx.snapshotRaw(chain.top(), "before.raw");
        Path rebased = chain.copyOfTop("rebased.qcow2");
        qemu.rebase(rebased, baseFile, shape.baseFormat());
        fx.openBaseMidTop(baseFile);

        JobView done = fx.awaitFinished(
                fx.start(Req.device("top").baseNode("base").build()).id());

        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(done.currentProgress()).isEqualTo(done.totalProgress()).isEqualTo(shape.size());
        fx.close();
        assertSameContent(rebased, chain.top());
        assertSameContent(before, chain.top());
        assertContent(chain.top(), chain.expected());
        assertCheckClean(chain.top());
        assertBacking(chain.top(), baseFile, shape.baseFormat());
    }

    @Test
    @DisplayName("Blockpull rule 3.1: a short layer deeper in the chain (top 4M <- mid1 4M <- mid2 1M <- base 4M)")
    void shortDeeperIntermediate() {
        Chain chain = Chains.in(qemu, dir)
                .base("base.qcow2", "qcow2", 4 * MIB)
                .write(0, 4 * MIB, 0x11)
                .overlay("mid2.qcow2")
                .size(MIB)
                .write(0, 64 * 1024, 0x22)
                .overlay("mid1.qcow2")
                .size(4 * MIB)
                .write(3 * MIB, 64 * 1024, 0x33)
                .overlay("top.qcow2")
                .size(4 * MIB)
                .write(128 * 1024, 64 * 1024, 0x44)
                .build();
        Path before = fx.snapshotRaw(chain.top(), "before.raw");
        Path rebased = chain.copyOfTop("rebased.qcow2");
        qemu.rebase(rebased, "base.qcow2", "qcow2");
        fx.openChain(
                new String[] {"top", "mid1", "mid2", "base"},
                new String[] {"top.qcow2", "mid1.qcow2", "mid2.qcow2", "base.qcow2"});

        JobView done = fx.awaitFinished(
                fx.start(Req.device("top").baseNode("base").build()).id());

        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        fx.close();
        assertSameContent(rebased, chain.top());
        assertSameContent(before, chain.top());
        assertContent(chain.top(), chain.expected());
        assertCheckClean(chain.top());
    }

    @Test
    @DisplayName("checklist 46: a top larger than its whole chain streams to the end; the tail reads as zeros")
    void checklist46_topLargerThanChain() {
        Chain chain = Chains.in(qemu, dir)
                .base("base.qcow2", "qcow2", MIB)
                .write(0, MIB, 0x11)
                .overlay("top.qcow2")
                .size(4 * MIB)
                .write(3 * MIB, 64 * 1024, 0x33)
                .build();
        Path before = fx.snapshotRaw(chain.top(), "before.raw");
        fx.openChain(new String[] {"top", "base"}, new String[] {"top.qcow2", "base.qcow2"});

        JobView done = fx.awaitFinished(fx.start(Req.device("top").build()).id());

        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(done.currentProgress()).isEqualTo(4 * MIB).isEqualTo(done.totalProgress());
        fx.close();
        assertSameContent(before, chain.top());
        assertContent(chain.top(), chain.expected());
        assertCheckClean(chain.top());
    }
}
