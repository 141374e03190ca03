package dev.blockpull.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening nodes: links and names, the four kinds of backing, QEMU's name rules, safety, all-or-nothing. */
class NodeOpeningTests {

    @TempDir
    Path dir;

    QemuTools qemu;
    GraphFixture fx;

    @BeforeEach
    void setUp() {
        qemu = QemuTools.require();
        fx = new GraphFixture(dir, 4);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    Chain standardChain() {
        return Chains.baseMidTop(qemu, dir);
    }

    @Test
    void headerChainOpensWithGeneratedNamesFileNodesAndBackingLinks() {
        standardChain();

        FormatNode top = fx.open("top", "top.qcow2");

        assertThat(BackingChain.chain(top)).extracting(BlockNode::name).first().isEqualTo("top");
        assertThat(BackingChain.chain(top)).hasSize(3);
        assertThat(BackingChain.chain(top).subList(1, 3))
                .allSatisfy(n -> assertThat(n.name()).matches("#block\\d{3,}"));
        FormatNode mid = (FormatNode) top.backingNode();
        FormatNode base = (FormatNode) mid.backingNode();
        assertThat(fx.relative(mid.path())).isEqualTo("mid.qcow2");
        assertThat(fx.relative(base.path())).isEqualTo("base.qcow2");
        assertThat(base.backingNode()).isNull();
        assertThat(top.isReadOnly()).isFalse();
        assertThat(mid.isReadOnly())
                .as("backing layers open read-only, as in QEMU")
                .isTrue();
        assertThat(top.file().driver()).isEqualTo(Driver.FILE);
        assertThat(top.file().name()).startsWith("#block");
        assertThat(fx.graph.nodes()).hasSize(6);
        assertThat(mid.parentLinks()).singleElement().satisfies(l -> {
            assertThat(l.parent()).isSameAs(top);
            assertThat(l.role()).isEqualTo(ChildRole.BACKING);
        });
    }

    @Test
    void backingNullOpensTheTopAloneAndUnallocatedRangesReadAsZeros() {
        Chain chain = standardChain();

        FormatNode top = fx.open("top", "top.qcow2", new NodeDefinition.NoBacking());

        assertThat(top.backingNode()).isNull();
        assertThat(fx.graph.nodes()).hasSize(2);
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        top.read(0, buf);
        assertThat(buf.array()).as("base data at 0 is not seen").containsOnly(0);
        ByteBuffer own = ByteBuffer.allocate(64 * 1024);
        top.read(768 * 1024, own);
        assertThat(own.array()).containsOnly(0x32);
        assertThat(chain.top()).exists();
    }

    @Test
    void backingReferenceUsesTheOpenedNode() {
        standardChain();
        FormatNode mid = fx.open("mid", "mid.qcow2");

        FormatNode top = fx.open("top", "top.qcow2", new NodeDefinition.Existing("mid"));

        assertThat(top.backingNode()).isSameAs(mid);
        assertThat(fx.graph.nodes()).hasSize(6);
    }

    @Test
    void nestedDefinitionsOpenInlineWithTheirNames() {
        Chain chain = standardChain();

        FormatNode top = fx.graph.open(GraphFixture.definition(
                "top",
                "top.qcow2",
                new NodeDefinition.Nested(GraphFixture.definition(
                        "mid",
                        "mid.qcow2",
                        new NodeDefinition.Nested(
                                GraphFixture.definition(null, "base.qcow2", new NodeDefinition.NoBacking()))))));

        assertThat(BackingChain.chain(top)).extracting(BlockNode::name).startsWith("top", "mid");
        assertThat(BackingChain.chain(top).get(2).name()).startsWith("#block");
        assertThat(GraphFixture.readAll(top)).isEqualTo(chain.expected());
        assertThat(fx.graph.get("mid").isUserOwned()).isTrue();
    }

    @Test
    void nodeNamesFollowQemusRulesAndMessages() {
        standardChain();
        fx.open("top", "top.qcow2", new NodeDefinition.NoBacking());

        assertThatThrownBy(() -> fx.open("top", "mid.qcow2"))
                .isInstanceOf(BlockException.class)
                .hasMessage("Duplicate nodes with node-name='top'")
                .extracting(e -> ((BlockException) e).kind())
                .isEqualTo(BlockErrorKind.CONFLICT);
        assertThatThrownBy(() -> fx.open("1bad", "mid.qcow2")).hasMessage("Invalid node-name: '1bad'");
        assertThatThrownBy(() -> fx.open("#block1", "mid.qcow2")).hasMessage("Invalid node-name: '#block1'");
        assertThatThrownBy(() -> fx.open("a".repeat(32), "mid.qcow2")).hasMessage("Node name too long");
        assertThatThrownBy(() -> fx.open(null, "mid.qcow2"))
                .hasMessageContaining("must be specified for the root node");
        assertThat(NodeName.isWellFormed("a" + "-_.9".repeat(7))).isTrue();
        assertThat(fx.graph.nodes()).hasSize(2);
    }

    @Test
    void aChainDeeperThanTheLimitIsRefusedAndNothingStaysOpen() throws IOException {
        qemu.create(dir.resolve("l0.qcow2"), "qcow2", "1M");
        for (int i = 1; i <= 4; i++) {
            qemu.createOverlay(dir.resolve("l" + i + ".qcow2"), dir.resolve("l" + (i - 1) + ".qcow2"));
        }

        assertThatThrownBy(() -> fx.open("top", "l4.qcow2"))
                .isInstanceOf(BlockException.class)
                .hasMessageContaining("deeper than the limit of 4");
        assertThat(fx.graph.nodes()).isEmpty();
        assertThat(fx.open("top", "l3.qcow2").length()).isEqualTo(1024 * 1024);
    }

    @Test
    void aBackingLoopIsRefused() {
        qemu.create(dir.resolve("a.qcow2"), "qcow2", "1M", "-u", "-b", "b.qcow2", "-F", "qcow2");
        qemu.create(dir.resolve("b.qcow2"), "qcow2", "1M", "-u", "-b", "a.qcow2", "-F", "qcow2");

        assertThatThrownBy(() -> fx.open("a", "a.qcow2"))
                .isInstanceOf(BlockException.class)
                .hasMessageContaining("infinite loop");
        assertThat(fx.graph.nodes()).isEmpty();
    }

    @Test
    void aMissingFileDeepInTheChainLeavesNothingOpen() throws IOException {
        standardChain();
        Files.delete(dir.resolve("base.qcow2"));

        assertThatThrownBy(() -> fx.open("top", "top.qcow2"))
                .isInstanceOf(BlockException.class)
                .hasMessageContaining("base.qcow2");
        assertThat(fx.graph.nodes()).isEmpty();
        // the images opened before the failure were closed: the top opens read-write again
        assertThat(fx.open("top", "top.qcow2", new NodeDefinition.NoBacking()).isReadOnly())
                .isFalse();
    }

    @Test
    void everyConfinementAttackIsRefusedBeforeAnythingIsOpened() throws IOException {
        Path outside = Files.createTempFile("bp-outside", ".raw");
        try {
            Files.createDirectories(dir.resolve("vm"));
            Files.createSymbolicLink(dir.resolve("vm/etc-link"), Path.of("/etc"));
            Files.createSymbolicLink(dir.resolve("vm/out.raw"), outside);
            String[] userNames = {
                outside.toString(),
                "../outside.raw",
                "vm/../../x.raw",
                "vm/etc-link/hostname",
                "vm/out.raw",
                "nbd:localhost:10809",
                "json:{\"file\":\"/etc/passwd\"}"
            };
            for (String name : userNames) {
                assertRefused(() -> fx.open("evil", name), name);
            }
            String[] backingStrings = {
                outside.toString(),
                "../../etc/passwd",
                "etc-link/hostname",
                "out.raw",
                "nbd://localhost/x",
                "json:{\"driver\":\"raw\"}"
            };
            for (int i = 0; i < backingStrings.length; i++) {
                Path trap = dir.resolve("vm/trap" + i + ".qcow2");
                qemu.create(trap, "qcow2", "1M", "-u", "-b", backingStrings[i], "-F", "raw");
                int n = i;
                assertRefused(() -> fx.open("trap", "vm/trap" + n + ".qcow2"), backingStrings[i]);
            }
            assertThat(fx.images.opened())
                    .allSatisfy(p -> assertThat(p.toRealPath()).startsWith(dir.toRealPath()));
            assertThat(fx.images.opened()).noneMatch(p -> p.toString().contains("etc") || p.equals(outside));
            assertThat(fx.graph.nodes()).isEmpty();
        } finally {
            Files.deleteIfExists(outside);
        }
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable open, String name) {
        assertThatThrownBy(open)
                .as(name)
                .isInstanceOf(BlockException.class)
                .extracting(e -> ((BlockException) e).kind())
                .isEqualTo(BlockErrorKind.INVALID_ARGUMENT);
    }

    @Test
    void aFileIsNotOpenedTwiceForWriting() {
        standardChain();
        fx.open("mid", "mid.qcow2", new NodeDefinition.NoBacking());
        fx.graph.get("mid");

        assertThatThrownBy(() -> fx.open("mid2", "mid.qcow2", new NodeDefinition.NoBacking()))
                .hasMessageContaining("already open as node 'mid'");
        assertThatThrownBy(() -> fx.open("top", "top.qcow2")).hasMessageContaining("\"backing\": \"mid\"");
    }

    @Test
    void reopenSwitchesBetweenReadOnlyAndReadWriteUnderADrain() {
        standardChain();
        FormatNode top = fx.graph.open(new NodeDefinition(
                "top",
                Driver.QCOW2,
                new NodeDefinition.FileDefinition("top.qcow2", false),
                new NodeDefinition.FromHeader(),
                true));
        ByteBuffer one = ByteBuffer.allocate(512);

        assertThat(top.isReadOnly()).isTrue();
        assertThatThrownBy(() -> top.write(0, one.clear())).hasMessage("Block node is read-only");
        try (DrainedSection s = fx.graph.drain(top)) {
            fx.graph.reopen(s, top, false);
        }
        top.write(0, one.clear());
        try (DrainedSection s = fx.graph.drain(top)) {
            fx.graph.reopen(s, top, true);
        }
        assertThat(top.isReadOnly()).isTrue();
        DrainedSection ended = fx.graph.drain(top);
        ended.close();
        assertThatThrownBy(() -> fx.graph.reopen(ended, top, false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("outside a drained section");
    }

    @Test
    void storageOpenedReadOnlyCanNeverBecomeWritable() {
        standardChain();
        FormatNode top = fx.graph.open(new NodeDefinition(
                "top",
                Driver.QCOW2,
                new NodeDefinition.FileDefinition("top.qcow2", true),
                new NodeDefinition.FromHeader(),
                false));

        assertThat(top.isReadOnly()).isTrue();
        try (DrainedSection s = fx.graph.drain(top)) {
            assertThatThrownBy(() -> fx.graph.reopen(s, top, false)).hasMessage("Block node is read-only");
        }
    }

    @Test
    void rawImagesCannotHaveABackingNode() throws IOException {
        qemu.create(dir.resolve("disk.raw"), "raw", "1M");
        qemu.create(dir.resolve("other.raw"), "raw", "1M");
        fx.open("other", "other.raw");

        assertThatThrownBy(() -> fx.open("disk", "disk.raw", new NodeDefinition.Existing("other")))
                .hasMessageContaining("does not support backing files");
        assertThat(fx.open("disk", "disk.raw").backingLink()).isNull();
    }
}
