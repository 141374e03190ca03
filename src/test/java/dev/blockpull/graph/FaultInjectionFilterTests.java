package dev.blockpull.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The blkdebug filter: its rules fail exactly the requests they name; everything else passes untouched. */
class FaultInjectionFilterTests {

    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;

    @TempDir
    Path dir;

    GraphFixture fx;

    @BeforeEach
    void setUp() {
        Chains.in(QemuTools.require(), dir)
                .base("base.qcow2", "qcow2", 2 * MIB)
                .write(0, 2 * MIB, 0x11)
                .overlay("top.qcow2")
                .write(MIB, 64 * KIB, 0x33)
                .build();
        fx = new GraphFixture(dir);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    /** top <- blkdebug "dbg" <- base, with the given rules on the filter. */
    private FormatNode topOverFaultyBase(InjectedError... rules) {
        return fx.open(
                "top",
                "top.qcow2",
                new NodeDefinition.FaultFilter(new FaultFilterDefinition(
                        "dbg",
                        new NodeDefinition.Nested(
                                GraphFixture.definition(null, "base.qcow2", new NodeDefinition.FromHeader())),
                        List.of(rules))));
    }

    private FaultInjectionFilter filter() {
        return (FaultInjectionFilter) fx.graph.get("dbg");
    }

    private static InjectedError readError(Errno errno, long offset, long length, boolean once) {
        return new InjectedError(FaultEvent.READ, errno, offset, length, once);
    }

    private static ByteBuffer read(BlockNode node, long offset, int length) {
        ByteBuffer buf = ByteBuffer.allocate(length);
        node.read(offset, buf);
        return buf.flip();
    }

    @Test
    void readsThatMissEveryRulePassThroughUntouched() {
        FormatNode top = topOverFaultyBase(readError(Errno.EIO, 512 * KIB, 64 * KIB, false));

        assertThat(read(top, 0, 512 * (int) KIB).array()).containsOnly(0x11);
        assertThat(read(top, MIB, 64 * (int) KIB).array()).containsOnly(0x33);
        assertThat(filter().rules())
                .singleElement()
                .extracting(FaultInjectionFilter.ActiveRule::hits)
                .isEqualTo(0L);
    }

    @Test
    void aReadOverlappingARuleFailsWithItsErrno() {
        FormatNode top = topOverFaultyBase(readError(Errno.ENOSPC, 512 * KIB, 64 * KIB, false));

        assertThatThrownBy(() -> read(top, 500 * KIB, 16 * (int) KIB))
                .isInstanceOf(BlockException.class)
                .hasMessage("No space left on device")
                .extracting(e -> ((BlockException) e).kind())
                .isEqualTo(BlockErrorKind.NO_SPACE);
        assertThat(filter().rules().get(0).hits()).isEqualTo(1);
    }

    @Test
    void aOnceRuleFailsOneRequestAndRemovesItself() {
        FormatNode top = topOverFaultyBase(readError(Errno.EIO, 0, 64 * KIB, true));

        assertThatThrownBy(() -> read(top, 0, 4096)).hasMessage("Input/output error");

        assertThat(read(top, 0, 4096).array()).containsOnly(0x11);
        assertThat(filter().rules()).isEmpty();
    }

    @Test
    void aRuleAddedWhileInUseAppliesToTheNextRequestAndRemovedItStopsFailing() {
        FormatNode top = topOverFaultyBase();
        read(top, 0, 4096);

        FaultInjectionFilter.ActiveRule rule = filter().addRule(readError(Errno.EIO, 0, 4096, false));
        assertThatThrownBy(() -> read(top, 0, 4096)).hasMessage("Input/output error");
        assertThat(filter().removeRule(rule.id())).isTrue();

        assertThat(read(top, 0, 4096).array()).containsOnly(0x11);
    }

    @Test
    void writesAndFlushesFailOnlyByTheirOwnRules() {
        topOverFaultyBase(new InjectedError(FaultEvent.WRITE, Errno.EROFS, 0, InjectedError.TO_THE_END, false));
        FaultInjectionFilter f = filter();

        assertThatThrownBy(() -> f.write(0, ByteBuffer.allocate(512))).hasMessage("Read-only file system");
        f.flush();
        f.addRule(new InjectedError(FaultEvent.FLUSH, Errno.EIO, 0, 1, false));
        assertThatThrownBy(f::flush).hasMessage("Input/output error");
    }

    @Test
    void chainWalksSkipTheFilterLikeAnyFilter() {
        FormatNode top = topOverFaultyBase();

        BlockNode base = BackingChain.chainNext(top);
        assertThat(base).isInstanceOf(FormatNode.class).isSameAs(filter().child());
        assertThat(BackingChain.chain(top))
                .extracting(BlockNode::driver)
                .containsExactly(Driver.QCOW2, Driver.BLKDEBUG, Driver.QCOW2);
        assertThat(BackingChain.findOverlay(top, null)).isSameAs(base);
    }
}
