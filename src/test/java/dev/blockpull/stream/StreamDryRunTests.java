package dev.blockpull.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.blockpull.graph.Driver;
import dev.blockpull.graph.NodeDefinition;
import dev.blockpull.io.BlockException;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dry run on the stream floor: its figures on a chain whose allocation is known byte by byte. */
class StreamDryRunTests {

    static final long KIB = StreamFixture.KIB;
    static final long MIB = StreamFixture.MIB;

    @TempDir
    Path dir;

    StreamFixture fx;

    @BeforeEach
    void setUp() {
        // base: 0-64K and 1M-1M+128K; mid: 64K-128K; top: 1M-1M+64K
        Chains.in(QemuTools.require(), dir)
                .base("base.qcow2", "qcow2", 4 * MIB)
                .write(0, 64 * KIB, 0x11)
                .write(MIB, 128 * KIB, 0x12)
                .overlay("mid.qcow2")
                .write(64 * KIB, 64 * KIB, 0x21)
                .overlay("top.qcow2")
                .write(MIB, 64 * KIB, 0x31)
                .build();
        fx = new StreamFixture(dir);
        fx.openBaseMidTop("base.qcow2");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void adjacentRangesOfDifferentLayersFormOneExtentAndWhatTheTopHoldsIsNotCopied() {
        StreamDryRun plan = fx.launcher.dryRun(Req.device("top").build());

        assertThat(plan.bytesToCopy()).isEqualTo(128 * KIB + 64 * KIB);
        assertThat(plan.extentsToCopy()).isEqualTo(2);
        assertThat(plan.removedNodes()).containsExactly("mid", "base");
        assertThat(plan.baseNode()).isNull();
        assertThat(plan.bottom()).isEqualTo("base");
        assertThat(plan.length()).isEqualTo(4 * MIB);
    }

    @Test
    void aBaseKeepsItsDataOutOfThePlan() {
        StreamDryRun plan =
                fx.launcher.dryRun(Req.device("top").baseNode("base").build());

        assertThat(plan.bytesToCopy()).isEqualTo(64 * KIB);
        assertThat(plan.extentsToCopy()).isEqualTo(1);
        assertThat(plan.removedNodes()).containsExactly("mid");
        assertThat(plan.bottom()).isEqualTo("mid");
        assertThat(plan.backingFile()).isEqualTo("base.qcow2");
    }

    @Test
    void streamingFromTheTopsOwnBackingAsBaseCopiesNothing() {
        StreamDryRun plan = fx.launcher.dryRun(Req.device("top").baseNode("mid").build());

        assertThat(plan.bytesToCopy()).isZero();
        assertThat(plan.extentsToCopy()).isZero();
        assertThat(plan.removedNodes()).isEmpty();
        assertThat(plan.bottom()).isNull();
        assertThat(plan.backingFile()).isEqualTo("mid.qcow2");
    }

    @Test
    void aTopOnReadOnlyStorageFailsThePlanAsItFailsTheStart() {
        Chains.in(QemuTools.require(), dir).base("ro.qcow2", "qcow2", MIB).build();
        fx.graph.open(new NodeDefinition(
                "ro",
                Driver.QCOW2,
                new NodeDefinition.FileDefinition("ro.qcow2", true),
                new NodeDefinition.NoBacking(),
                true));
        StreamRequest request = Req.device("ro").build();

        Throwable planned = catchThrowable(() -> fx.launcher.dryRun(request));
        Throwable started = catchThrowable(() -> fx.start(request));

        assertThat(planned).isInstanceOf(BlockException.class).hasMessage("Block node is read-only");
        assertThat(started).isInstanceOf(BlockException.class).hasMessage(planned.getMessage());
        assertThat(((BlockException) planned).kind()).isEqualTo(((BlockException) started).kind());
    }

    @Test
    void withoutASpeedLimitOrARecentJobThereIsNoEstimate() {
        StreamDryRun plan = fx.launcher.dryRun(Req.device("top").build());

        assertThat(plan.estimateBasis()).isEqualTo(StreamDryRun.EstimateBasis.NONE);
        assertThat(plan.estimatedSeconds()).isNull();
    }

    @Test
    void aRateLimitedJobIsNoBasisForTheEstimateButACompletedUnlimitedOneIs() {
        fx.awaitFinished(fx.start(Req.device("top")
                        .id("limited")
                        .baseNode("base")
                        .speed(64 * MIB)
                        .build())
                .id());
        assertThat(fx.launcher.dryRun(Req.device("top").build()).estimateBasis())
                .isEqualTo(StreamDryRun.EstimateBasis.NONE);

        fx.awaitFinished(fx.start(Req.device("top").id("unlimited").build()).id());
        StreamDryRun plan = fx.launcher.dryRun(Req.device("top").build());

        assertThat(plan.estimateBasis()).isEqualTo(StreamDryRun.EstimateBasis.RECENT_JOBS);
        assertThat(plan.estimatedSeconds()).as("nothing left to copy").isZero();
    }
}
