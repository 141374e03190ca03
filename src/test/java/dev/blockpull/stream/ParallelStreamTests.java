package dev.blockpull.stream;

import static dev.blockpull.testsupport.AssertImages.assertBacking;
import static dev.blockpull.testsupport.AssertImages.assertCheckClean;
import static dev.blockpull.testsupport.AssertImages.assertSameContent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.DrainedSection;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.io.BlockException;
import dev.blockpull.job.JobResult;
import dev.blockpull.job.JobStatus;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.MapEntry;
import dev.blockpull.testsupport.QemuTools;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several stream jobs on one chain n0 <- n1 <- ... <- n8 (stream-semantics §5.5, iotest 030's parallel cases). */
class ParallelStreamTests {

    static final long KIB = StreamFixture.KIB;
    static final long MIB = StreamFixture.MIB;
    static final String BUSY = "block device is in use by block job: stream";

    @TempDir
    Path dir;

    QemuTools qemu;
    StreamFixture fx;
    Chain chain;
    final Map<Integer, Path> before = new HashMap<>();

    @BeforeEach
    void setUp() {
        qemu = QemuTools.require();
        fx = new StreamFixture(dir);
        // Data in the base and in the odd layers only, at places that overlap each other partly.
        Chains.Builder b =
                Chains.in(qemu, dir).base("n0.qcow2", "qcow2", 4 * MIB).write(0, 4 * MIB, 0x10);
        for (int i = 1; i <= 8; i++) {
            b.overlay("n" + i + ".qcow2");
            if (i % 2 == 1) {
                b.write((i - 1) * 256 * KIB, 768 * KIB, 0x10 + i).write(3 * MIB + i * 64 * KIB, 64 * KIB, 0x20 + i);
            }
        }
        chain = b.build();
        for (int i = 2; i <= 8; i += 2) {
            before.put(i, fx.snapshotRaw(chain.path("n" + i + ".qcow2"), "n" + i + "-before.raw"));
        }
        String[] names = new String[9];
        String[] files = new String[9];
        for (int i = 0; i <= 8; i++) {
            names[i] = "n" + (8 - i);
            files[i] = "n" + (8 - i) + ".qcow2";
        }
        fx.openChain(names, files);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private Path file(int i) {
        return chain.path("n" + i + ".qcow2");
    }

    /** Ranges a layer itself holds, from qemu-img map of the layer (depth 0), adjacent rows merged. */
    private List<List<Long>> ownMap(Path image) {
        List<List<Long>> out = new java.util.ArrayList<>();
        for (MapEntry e : qemu.map(image)) {
            if (e.depth() != 0 || !e.present()) {
                continue;
            }
            if (!out.isEmpty() && out.get(out.size() - 1).get(1) == e.start()) {
                out.set(out.size() - 1, List.of(out.get(out.size() - 1).get(0), e.end()));
            } else {
                out.add(List.of(e.start(), e.end()));
            }
        }
        return out;
    }

    @Test
    @DisplayName("checklist 44: four parallel bottom streams on disjoint segments of a 9-image chain all succeed; "
            + "each streamed layer's map equals that of the layer it absorbed")
    void checklist44_fourParallelBottomStreams() {
        Map<Integer, List<List<Long>>> absorbedMaps = new HashMap<>();
        for (int i = 1; i <= 7; i += 2) {
            absorbedMaps.put(i, ownMap(file(i)));
        }
        // Speed 1 B/s: each job copies one chunk and then sleeps, so all four are alive at once.
        for (int i = 2; i <= 8; i += 2) {
            fx.start(Req.device("n" + i)
                    .id("s" + i)
                    .bottom("n" + (i - 1))
                    .speed(1)
                    .build());
        }
        await().atMost(StreamFixture.WAIT)
                .until(() -> List.of(2, 4, 6, 8).stream()
                        .allMatch(i -> fx.view("s" + i).status() == JobStatus.RUNNING
                                && fx.view("s" + i).currentProgress() > 0));
        assertThat(fx.filters()).hasSize(4);
        Map<String, String> threads = new HashMap<>();
        Thread.getAllStackTraces().keySet().forEach(t -> threads.put(t.getName(), t.getName()));
        assertThat(threads)
                .containsKeys("blockpull-job-s2", "blockpull-job-s4", "blockpull-job-s6", "blockpull-job-s8");

        for (int i = 2; i <= 8; i += 2) {
            fx.scheduler.setSpeed("s" + i, 0);
        }
        for (int i = 2; i <= 8; i += 2) {
            assertThat(fx.awaitFinished("s" + i).result()).as("job s%d", i).isEqualTo(JobResult.COMPLETED);
        }
        for (int i = 2; i <= 8; i += 2) {
            assertThat(BackingChain.cow(fx.node("n" + i))).isSameAs(fx.node("n" + (i - 2)));
        }
        assertThat(fx.filters()).isEmpty();
        fx.close();
        for (int i = 2; i <= 8; i += 2) {
            assertBacking(file(i), "n" + (i - 2) + ".qcow2", "qcow2");
            assertSameContent(before.get(i), file(i));
            assertCheckClean(file(i));
            assertThat(ownMap(file(i))).as("map of n%d vs n%d", i, i - 1).isEqualTo(absorbedMaps.get(i - 1));
        }
    }

    @Test
    @DisplayName(
            "checklist 43: overlapping jobs on the 9-image chain are refused with QEMU's busy message (iotest 030)")
    void checklist43_overlappingRefused() {
        fx.start(Req.device("n4")
                .id("stream-node4")
                .baseNode("n1")
                .filter("stream-filter")
                .speed(1)
                .build());
        assertThatThrownBy(
                        () -> fx.start(Req.device("n5").id("x").baseNode("n2").build()))
                .isInstanceOf(BlockException.class)
                .hasMessage("Node 'stream-filter' is busy: " + BUSY);
        assertThatThrownBy(
                        () -> fx.start(Req.device("n3").id("x").baseNode("n2").build()))
                .isInstanceOf(BlockException.class)
                .hasMessage("Node 'n3' is busy: " + BUSY);
        assertThatThrownBy(() -> fx.start(Req.device("n4").id("x").build()))
                .isInstanceOf(BlockException.class)
                .hasMessage("Node 'n4' is busy: " + BUSY);
        assertThatThrownBy(
                        () -> fx.start(Req.device("n8").id("x").baseNode("n3").build()))
                .isInstanceOf(BlockException.class)
                .hasMessage("Node 'stream-filter' is busy: " + BUSY);
        assertThat(fx.scheduler.list()).hasSize(1);
        assertThat(fx.filters()).containsExactly("stream-filter");
        // one job's base may be another job's top: a stream whose chain ends at n4's base is fine
        fx.start(Req.device("n1").id("below").build());
        assertThat(fx.awaitFinished("below").result()).isEqualTo(JobResult.COMPLETED);
        fx.scheduler.setSpeed("stream-node4", 0);
        assertThat(fx.awaitFinished("stream-node4").result()).isEqualTo(JobResult.COMPLETED);
        assertThat(BackingChain.cow(fx.node("n4"))).isSameAs(fx.node("n1"));
        fx.close();
        assertSameContent(before.get(4), file(4));
        assertBacking(file(4), "n1.qcow2", "qcow2");
        assertCheckClean(file(4));
    }

    @Test
    @DisplayName(
            "checklist 45 (analog): a stream may use another running job's filter as baseNode; both finish, backing picked up at completion")
    void checklist45_filterAsBaseNode() {
        fx.start(Req.device("n4").id("a").bottom("n3").filter("f4").speed(1).build());
        fx.start(Req.device("n6").id("b").baseNode("f4").build());
        assertThat(fx.awaitFinished("b").result()).isEqualTo(JobResult.COMPLETED);
        assertThat(BackingChain.cow(fx.node("n6"))).isSameAs(fx.node("f4"));
        fx.scheduler.setSpeed("a", 0);
        assertThat(fx.awaitFinished("a").result()).isEqualTo(JobResult.COMPLETED);
        assertThat(BackingChain.cow(fx.node("n6"))).isSameAs(fx.node("n4"));
        assertThat(BackingChain.cow(fx.node("n4"))).isSameAs(fx.node("n2"));
        fx.close();
        assertBacking(file(6), "n4.qcow2", "qcow2");
        assertBacking(file(4), "n2.qcow2", "qcow2");
        assertSameContent(before.get(6), file(6));
        assertSameContent(before.get(4), file(4));
        assertCheckClean(file(6));
    }

    @Test
    @DisplayName("checklist 48: backingMaskProtocol writes raw as the format of a protocol-node base")
    void checklist48_backingMaskProtocol() {
        FormatNode n1 = (FormatNode) fx.node("n1");
        FormatNode n0 = (FormatNode) fx.node("n0");
        BlockNode protocol = n0.file();
        try (DrainedSection s = fx.graph.drain(n1)) {
            fx.graph.setBacking(s, n1, protocol);
        }
        fx.launcher.start(
                Req.device("n1").id("nomask").baseNode(protocol.name()).build(), false);
        assertThat(fx.awaitFinished("nomask").result()).isEqualTo(JobResult.COMPLETED);
        assertThat(n1.headerBacking().orElseThrow().format())
                .as("a protocol driver is not a format")
                .isNull();
        fx.launcher.start(Req.device("n1").id("mask").baseNode(protocol.name()).build(), true);
        assertThat(fx.awaitFinished("mask").result()).isEqualTo(JobResult.COMPLETED);
        assertThat(BackingChain.cow(n1)).isSameAs(protocol);
        fx.close();
        assertBacking(file(1), "n0.qcow2", "raw");
    }
}
