package dev.blockpull.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.Driver;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.graph.NodeDefinition;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.job.JobResult;
import dev.blockpull.job.JobView;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.nio.file.Path;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checks of stream-semantics §2.1: QEMU's order, texts and kinds, and nothing left behind. */
class StreamArgumentTests {

    @TempDir
    Path dir;

    QemuTools qemu;
    StreamFixture fx;
    Chain chain;
    FormatNode top;

    @BeforeEach
    void setUp() {
        qemu = QemuTools.require();
        fx = new StreamFixture(dir);
        chain = Chains.baseMidTop(qemu, dir);
        top = fx.openBaseMidTop("base.qcow2");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    /** The start fails with exactly this kind and text, and no job, filter, claim or blocker remains. */
    private void assertRefused(Req request, BlockErrorKind kind, String message) {
        assertRefused(() -> fx.start(request.build()), kind, message);
    }

    private void assertRefused(ThrowingCallable start, BlockErrorKind kind, String message) {
        List<JobView> jobsBefore = fx.scheduler.list();
        assertThatThrownBy(start)
                .isInstanceOf(BlockException.class)
                .hasMessage(message)
                .extracting(e -> ((BlockException) e).kind())
                .isEqualTo(kind);
        assertThat(fx.scheduler.list()).isEqualTo(jobsBefore);
        assertThat(fx.filters()).isEmpty();
        for (BlockNode n : List.of(top, fx.node("mid"), fx.node("base"))) {
            assertThat(fx.graph.usedBy(n)).as("holders of %s", n.name()).isEmpty();
            assertThat(n.parentLinks()).allMatch(l -> !l.isFrozen());
        }
        assertThat(top.backingLink().isFrozen()).isFalse();
        assertThat(BackingChain.cow(top)).isSameAs(fx.node("mid"));
    }

    @Test
    @DisplayName("checklist 5: omitting jobId gives the device node name; the job is reachable under it")
    void checklist05_defaultJobId() {
        JobView v = fx.start(Req.device("top").build());
        assertThat(v.id()).isEqualTo("top");
        assertThat(fx.awaitFinished("top").result()).isEqualTo(JobResult.COMPLETED);
    }

    @Test
    @DisplayName("checklist 5: an unusable default id (a generated #block name) fails with Invalid job ID")
    void checklist05_unusableDefault() {
        fx.close();
        fx = new StreamFixture(dir);
        top = fx.graph.open(new NodeDefinition(
                "top",
                Driver.QCOW2,
                new NodeDefinition.FileDefinition("top.qcow2", false),
                new NodeDefinition.FromHeader(),
                false));
        BlockNode generated = BackingChain.cow(top);
        assertThat(generated.name()).startsWith("#");
        assertThatThrownBy(() -> fx.start(Req.device(generated.name()).build()))
                .isInstanceOf(BlockException.class)
                .hasMessage("Invalid job ID '" + generated.name() + "'");
        assertThat(fx.scheduler.list()).isEmpty();
        assertThat(fx.filters()).isEmpty();
        assertThat(fx.graph.usedBy(generated)).isEmpty();
    }

    @Test
    @DisplayName("checklist 6: base+baseNode, base+bottom, bottom+baseNode fail with their messages; nothing created")
    void checklist06_exclusiveArguments() {
        assertRefused(
                Req.device("top").base("base.qcow2").baseNode("base"),
                BlockErrorKind.INVALID_ARGUMENT,
                "'base' and 'base-node' cannot be specified at the same time");
        assertRefused(
                Req.device("top").base("base.qcow2").bottom("mid"),
                BlockErrorKind.INVALID_ARGUMENT,
                "'base' and 'bottom' cannot be specified at the same time");
        assertRefused(
                Req.device("top").bottom("mid").baseNode("base"),
                BlockErrorKind.INVALID_ARGUMENT,
                "'bottom' and 'base-node' cannot be specified at the same time");
        // QEMU's order: the exclusivity checks come before the device lookup
        assertRefused(
                Req.device("nope").base("x").baseNode("y"),
                BlockErrorKind.INVALID_ARGUMENT,
                "'base' and 'base-node' cannot be specified at the same time");
    }

    @Test
    @DisplayName("checklist 7: unknown device and unknown baseNode: QEMU's lookup messages, NOT_FOUND")
    void checklist07_unknownNames() {
        assertRefused(Req.device("nope"), BlockErrorKind.NOT_FOUND, "Cannot find device='nope' nor node-name='nope'");
        assertRefused(
                Req.device("top").baseNode("nope"),
                BlockErrorKind.NOT_FOUND,
                "Cannot find device='' nor node-name='nope'");
        assertRefused(
                Req.device("top").bottom("nope"),
                BlockErrorKind.NOT_FOUND,
                "Cannot find device='' nor node-name='nope'");
    }

    @Test
    @DisplayName("checklist 8: a base file name not below the device")
    void checklist08_baseFileNotInChain() {
        assertRefused(
                Req.device("top").base("other.qcow2"),
                BlockErrorKind.INVALID_ARGUMENT,
                "Can't find 'other.qcow2' in the backing chain");
        assertRefused(
                Req.device("mid").base("top.qcow2"),
                BlockErrorKind.INVALID_ARGUMENT,
                "Can't find 'top.qcow2' in the backing chain");
        assertRefused(
                Req.device("top").base("top.qcow2"),
                BlockErrorKind.INVALID_ARGUMENT,
                "Can't find 'top.qcow2' in the backing chain");
    }

    @Test
    @DisplayName("checklist 9: baseNode equal to the device or not in its chain")
    void checklist09_baseNodeNotBelow() {
        assertRefused(
                Req.device("top").baseNode("top"),
                BlockErrorKind.INVALID_ARGUMENT,
                "Node 'top' is not a backing image of 'top'");
        assertRefused(
                Req.device("mid").baseNode("top"),
                BlockErrorKind.INVALID_ARGUMENT,
                "Node 'top' is not a backing image of 'mid'");
    }

    @Test
    @DisplayName("checklist 10: bottom that is a filter, or not in the chain")
    void checklist10_bottomChecks() {
        assertRefused(
                Req.device("mid").bottom("top"),
                BlockErrorKind.INVALID_ARGUMENT,
                "Node 'top' is not in a chain starting from 'mid'");
        JobView slow = fx.start(
                Req.device("mid").id("slow").filter("midfilter").speed(1).build());
        assertThatThrownBy(() -> fx.start(Req.device("top").bottom("midfilter").build()))
                .isInstanceOf(BlockException.class)
                .hasMessage("Node 'midfilter' is a filter, use a non-filter node as 'bottom'");
        fx.scheduler.cancel(slow.id());
        fx.awaitFinished(slow.id());
    }

    @Test
    @DisplayName("checklist 11: backingFile without a base (also with bottom)")
    void checklist11_backingFileWithoutBase() {
        assertRefused(
                Req.device("top").backingFile("x.qcow2"),
                BlockErrorKind.INVALID_ARGUMENT,
                "backing file specified, but streaming the entire chain");
        assertRefused(
                Req.device("top").bottom("mid").backingFile("x.qcow2"),
                BlockErrorKind.INVALID_ARGUMENT,
                "backing file specified, but streaming the entire chain");
    }

    @Test
    @DisplayName("checklist 12: negative speed at creation and via set-speed; no job remains")
    void checklist12_negativeSpeed() {
        assertRefused(
                Req.device("top").id("neg").speed(-1),
                BlockErrorKind.INVALID_ARGUMENT,
                "Parameter 'speed' expects a non-negative value");
        assertThat(fx.scheduler.find("neg")).isEmpty();
        assertThat(fx.awaitTrailEnd("neg", "null")).containsExactly("created", "null");
        JobView slow = fx.start(Req.device("top").id("slow").speed(1).build());
        assertThatThrownBy(() -> fx.scheduler.setSpeed(slow.id(), -1))
                .isInstanceOf(BlockException.class)
                .hasMessage("Parameter 'speed' expects a non-negative value");
        fx.scheduler.cancel(slow.id());
        fx.awaitFinished(slow.id());
    }

    @Test
    @DisplayName("checklist 13: job id in use by any job (CONFLICT); malformed job id")
    void checklist13_jobIds() {
        JobView slow = fx.start(Req.device("mid").id("J").speed(1).build());
        assertThatThrownBy(
                        () -> fx.start(Req.device("top").id("J").bottom("top").build()))
                .isInstanceOf(BlockException.class)
                .hasMessage("Job ID 'J' already in use")
                .extracting(e -> ((BlockException) e).kind())
                .isEqualTo(BlockErrorKind.CONFLICT);
        assertThat(fx.filters()).hasSize(1);
        fx.scheduler.cancel(slow.id());
        fx.awaitFinished(slow.id());
        assertRefused(Req.device("top").id("1bad"), BlockErrorKind.INVALID_ARGUMENT, "Invalid job ID '1bad'");
        assertRefused(Req.device("top").id("a b"), BlockErrorKind.INVALID_ARGUMENT, "Invalid job ID 'a b'");
    }

    @Test
    @DisplayName("checklist 14: device on read-only storage: Block node is read-only, no job, no filter")
    void checklist14_readOnlyStorage() {
        fx.close();
        fx = new StreamFixture(dir);
        FormatNode ro = fx.graph.open(new NodeDefinition(
                "ro",
                Driver.QCOW2,
                new NodeDefinition.FileDefinition("top.qcow2", true),
                new NodeDefinition.FromHeader(),
                true));
        assertThatThrownBy(() -> fx.start(Req.device("ro").build()))
                .isInstanceOf(BlockException.class)
                .hasMessage("Block node is read-only");
        assertThat(fx.scheduler.list()).isEmpty();
        assertThat(fx.filters()).isEmpty();
        assertThat(ro.isReadOnly()).isTrue();
        assertThat(ro.backingLink().isFrozen()).isFalse();
        assertThat(fx.graph.usedBy(ro)).isEmpty();
    }

    @Test
    @DisplayName("checklist 15: a read-only device is read-write during the job, read-only after success")
    void checklist15_readOnlyRestoredAfterSuccess() throws Exception {
        fx.close();
        fx = new StreamFixture(dir);
        FormatNode t = fx.openChain(
                new String[] {"top", "mid", "base"}, new String[] {"top.qcow2", "mid.qcow2", "base.qcow2"}, true);
        assertThat(t.isReadOnly()).isTrue();
        var gate = fx.images.file(chain.path("mid.qcow2")).gate();
        gate.close();
        fx.start(Req.device("top").id("rw").build());
        assertThat(gate.awaitWaiting(1, StreamFixture.WAIT)).isTrue();
        assertThat(t.isReadOnly()).as("read-write while streaming").isFalse();
        gate.open();
        assertThat(fx.awaitFinished("rw").result()).isEqualTo(JobResult.COMPLETED);
        assertThat(t.isReadOnly()).as("read-only again").isTrue();
    }

    @Test
    @DisplayName("checklist 15: a read-only device is read-only again after cancel and after failure")
    void checklist15_readOnlyRestoredAfterCancelAndFailure() {
        fx.close();
        fx = new StreamFixture(dir);
        FormatNode t = fx.openChain(
                new String[] {"top", "mid", "base"}, new String[] {"top.qcow2", "mid.qcow2", "base.qcow2"}, true);
        fx.start(Req.device("top").id("c").speed(1).build());
        assertThat(t.isReadOnly()).isFalse();
        fx.scheduler.cancel("c");
        assertThat(fx.awaitFinished("c").result()).isEqualTo(JobResult.CANCELLED);
        assertThat(t.isReadOnly()).isTrue();

        fx.images.file(chain.path("mid.qcow2")).failReads(0, Long.MAX_VALUE / 2);
        fx.start(Req.device("top").id("f").build());
        assertThat(fx.awaitFinished("f").result()).isEqualTo(JobResult.FAILED);
        assertThat(t.isReadOnly()).isTrue();
        assertThat(fx.filters()).isEmpty();
    }

    @Test
    @DisplayName("checklist 39: a duplicate filterNodeName fails and leaves no job")
    void checklist39_duplicateFilterName() {
        assertRefused(
                Req.device("top").id("d").filter("mid"),
                BlockErrorKind.CONFLICT,
                "Duplicate nodes with node-name='mid'");
        assertThat(fx.trail("d")).isEmpty();
        assertRefused(
                Req.device("top").id("d").filter("#bad"), BlockErrorKind.INVALID_ARGUMENT, "Invalid node-name: '#bad'");
    }

    @Test
    @DisplayName(
            "checklist 38: a copy-on-read node sits directly above the device during the job, parents re-pointed; gone after")
    void checklist38_filterPlacement() {
        fx.close();
        qemu.createOverlay(dir.resolve("over.qcow2"), chain.top());
        fx = new StreamFixture(dir);
        FormatNode over = fx.openChain(
                new String[] {"over", "top", "mid", "base"},
                new String[] {"over.qcow2", "top.qcow2", "mid.qcow2", "base.qcow2"});
        BlockNode t = fx.node("top");
        var guest = fx.graph.attach(
                dev.blockpull.graph.Holder.export("guest"),
                t,
                true,
                java.util.Set.of(),
                java.util.EnumSet.allOf(dev.blockpull.graph.Permission.class));

        fx.start(Req.device("top").id("named").filter("cor1").speed(1).build());
        BlockNode filter = fx.node("cor1");
        assertThat(filter.driver()).isEqualTo(Driver.COPY_ON_READ);
        assertThat(filter.isImplicit()).isFalse();
        assertThat(BackingChain.next(filter)).isSameAs(t);
        assertThat(BackingChain.cow(over))
                .as("the overlay's backing link now points to the filter")
                .isSameAs(filter);
        assertThat(guest.root()).as("the device attachment moved to the filter").isSameAs(filter);
        fx.scheduler.cancel("named");
        fx.awaitFinished("named");
        assertThat(fx.filters()).isEmpty();
        assertThat(BackingChain.cow(over)).isSameAs(t);
        assertThat(guest.root()).isSameAs(t);

        fx.start(Req.device("top").id("implicit").speed(1).build());
        assertThat(fx.filters()).hasSize(1);
        BlockNode implicit = fx.node(fx.filters().get(0));
        assertThat(implicit.isImplicit()).isTrue();
        assertThat(implicit.name()).startsWith("#");
        fx.scheduler.setSpeed("implicit", 0);
        assertThat(fx.awaitFinished("implicit").result()).isEqualTo(JobResult.COMPLETED);
        assertThat(fx.filters()).isEmpty();
        assertThat(BackingChain.cow(over)).isSameAs(t);
        assertThat(guest.root()).isSameAs(t);
        guest.close();
    }
}
