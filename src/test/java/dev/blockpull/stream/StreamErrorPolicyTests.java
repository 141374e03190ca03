package dev.blockpull.stream;

import static dev.blockpull.testsupport.AssertImages.assertBacking;
import static dev.blockpull.testsupport.AssertImages.assertCheckClean;
import static dev.blockpull.testsupport.AssertImages.assertCheckCleanOrLeaksOnly;
import static dev.blockpull.testsupport.AssertImages.assertSameContent;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.io.FaultInjectingBlockFile;
import dev.blockpull.io.FaultRule;
import dev.blockpull.job.ErrorAction;
import dev.blockpull.job.IoOperation;
import dev.blockpull.job.IoStatus;
import dev.blockpull.job.JobEvent;
import dev.blockpull.job.JobResult;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.job.OnErrorPolicy;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.MapEntry;
import dev.blockpull.testsupport.QemuTools;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * on-error report/ignore/stop/enospc (stream-semantics §3.4), driven by the fault-injecting file
 * under the images: a 2 MiB chain whose middle layer holds every byte, so that every chunk is a
 * copy, with a read error on mid's data at guest offset 512 KiB.
 */
class StreamErrorPolicyTests {

    static final long KIB = StreamFixture.KIB;
    static final long MIB = StreamFixture.MIB;

    @TempDir
    Path dir;

    QemuTools qemu;
    StreamFixture fx;
    Chain chain;
    Path before;
    FormatNode top;

    @BeforeEach
    void setUp() {
        qemu = QemuTools.require();
        fx = new StreamFixture(dir);
        chain = Chains.in(qemu, dir)
                .base("base.qcow2", "qcow2", 2 * MIB)
                .write(0, 2 * MIB, 0x11)
                .overlay("mid.qcow2")
                .write(0, 2 * MIB, 0x22)
                .overlay("top.qcow2")
                .write(1536 * KIB, 64 * KIB, 0x33)
                .build();
        before = fx.snapshotRaw(chain.top(), "before.raw");
        top = fx.openBaseMidTop("base.qcow2");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    /** EIO on every read of mid's data cluster at guest 512 KiB. */
    private FaultRule failMidReadAt512K() {
        long host = -1;
        for (MapEntry e : qemu.withForceShare().map(chain.path("mid.qcow2"))) {
            if (e.depth() == 0 && e.offset() != null && e.contains(512 * KIB)) {
                host = e.offset() + (512 * KIB - e.start());
            }
        }
        assertThat(host).as("mid's host offset of guest 512 KiB").isPositive();
        return midFile().failReads(host, 64 * KIB);
    }

    private FaultInjectingBlockFile midFile() {
        return fx.images.file(chain.path("mid.qcow2"));
    }

    private List<JobEvent> errors(String id) {
        return fx.eventsOf(id, JobEvent.BlockJobError.class);
    }

    @Test
    @DisplayName(
            "checklist 20: chunks are 512 KiB: a read error at 512 KiB with report fails at offset 524288, Input/output error")
    void checklist20_reportAtChunkBoundary() {
        failMidReadAt512K();
        fx.start(Req.device("top").id("r").build());
        JobView done = fx.awaitFinished("r");
        assertThat(done.result()).isEqualTo(JobResult.FAILED);
        assertThat(done.currentProgress()).isEqualTo(524288);
        assertThat(done.totalProgress()).isEqualTo(2 * MIB);
        assertThat(done.error()).isEqualTo("Input/output error");
        fx.awaitTrailEnd("r", "null");
        assertThat(errors("r")).containsExactly(new JobEvent.BlockJobError("r", IoOperation.READ, ErrorAction.REPORT));
        assertThat(fx.trail("r"))
                .containsSubsequence(
                        "running", "BLOCK_JOB_ERROR", "aborting", "BLOCK_JOB_COMPLETED", "concluded", "null");
        assertThat(BackingChain.cow(top)).isSameAs(fx.node("mid"));
        fx.close();
        assertBacking(chain.top(), "mid.qcow2", "qcow2");
        assertSameContent(before, chain.top());
        assertCheckClean(chain.top());
    }

    @Test
    @DisplayName(
            "checklist 21 + 24: ignore: one BLOCK_JOB_ERROR(read, ignore), runs to offset == len, then fails; chain unchanged")
    void checklist21_ignore() {
        failMidReadAt512K();
        fx.start(Req.device("top").id("i").onError(OnErrorPolicy.IGNORE).build());
        JobView done = fx.awaitFinished("i");
        assertThat(done.result()).isEqualTo(JobResult.FAILED);
        assertThat(done.error()).isEqualTo("Input/output error");
        assertThat(done.currentProgress()).isEqualTo(done.totalProgress()).isEqualTo(2 * MIB);
        fx.awaitTrailEnd("i", "null");
        assertThat(errors("i")).containsExactly(new JobEvent.BlockJobError("i", IoOperation.READ, ErrorAction.IGNORE));
        assertThat(BackingChain.cow(top)).isSameAs(fx.node("mid"));
        assertThat(fx.filters()).isEmpty();
        fx.close();
        assertBacking(chain.top(), "mid.qcow2", "qcow2");
        assertSameContent(before, chain.top());
        assertCheckClean(chain.top());
    }

    @Test
    @DisplayName("checklist 22 + 24: stop on EIO: paused, ioStatus failed, offset frozen; resume retries and succeeds")
    void checklist22_stopOnEio() {
        FaultRule rule = failMidReadAt512K();
        fx.start(Req.device("top").id("s").onError(OnErrorPolicy.STOP).build());
        JobView paused = fx.awaitStatus("s", JobStatus.PAUSED);
        assertThat(paused.ioStatus()).isEqualTo(IoStatus.FAILED);
        assertThat(paused.paused()).isTrue();
        assertThat(paused.busy()).isFalse();
        assertThat(paused.currentProgress()).isEqualTo(524288);
        assertThat(fx.view("s").currentProgress()).as("frozen while paused").isEqualTo(524288);
        midFile().removeRule(rule);

        JobView resumed = fx.scheduler.resume("s");
        assertThat(resumed.ioStatus()).isEqualTo(IoStatus.OK);
        JobView done = fx.awaitFinished("s");
        assertThat(done.result()).isEqualTo(JobResult.COMPLETED);
        assertThat(done.currentProgress()).isEqualTo(2 * MIB);
        fx.awaitTrailEnd("s", "null");
        assertThat(errors("s")).containsExactly(new JobEvent.BlockJobError("s", IoOperation.READ, ErrorAction.STOP));
        assertThat(fx.trail("s"))
                .containsSubsequence(
                        "running",
                        "BLOCK_JOB_ERROR",
                        "paused",
                        "running",
                        "waiting",
                        "pending",
                        "BLOCK_JOB_COMPLETED",
                        "concluded",
                        "null");
        fx.close();
        assertBacking(chain.top(), null, null);
        assertSameContent(before, chain.top());
        assertCheckClean(chain.top());
    }

    @Test
    @DisplayName(
            "checklist 22 + 24: stop on ENOSPC (a write into the top): paused with ioStatus nospace, operation read")
    void checklist22_stopOnNoSpace() {
        FaultRule full = fx.images.file(chain.top()).noSpaceAfter(0);
        fx.start(Req.device("top").id("n").onError(OnErrorPolicy.STOP).build());
        JobView paused = fx.awaitStatus("n", JobStatus.PAUSED);
        assertThat(paused.ioStatus()).isEqualTo(IoStatus.NOSPACE);
        assertThat(paused.currentProgress()).isZero();
        fx.images.file(chain.top()).removeRule(full);
        assertThat(fx.scheduler.resume("n").ioStatus()).isEqualTo(IoStatus.OK);
        assertThat(fx.awaitFinished("n").result()).isEqualTo(JobResult.COMPLETED);
        fx.awaitTrailEnd("n", "null");
        assertThat(errors("n")).containsExactly(new JobEvent.BlockJobError("n", IoOperation.READ, ErrorAction.STOP));
        assertThat(BackingChain.cow(top)).isNull();
        fx.close();
        assertSameContent(before, chain.top());
        assertCheckCleanOrLeaksOnly(chain.top());
    }

    @Test
    @DisplayName("checklist 23 + 24: enospc: ENOSPC behaves like stop, EIO like report")
    void checklist23_enospcPolicy() {
        FaultRule full = fx.images.file(chain.top()).noSpaceAfter(0);
        fx.start(Req.device("top")
                .id("e1")
                .onError(OnErrorPolicy.ENOSPC)
                .bottom("mid")
                .build());
        JobView paused = fx.awaitStatus("e1", JobStatus.PAUSED);
        assertThat(paused.ioStatus()).isEqualTo(IoStatus.NOSPACE);
        fx.images.file(chain.top()).removeRule(full);
        failMidReadAt512K();
        fx.scheduler.resume("e1");
        JobView done = fx.awaitFinished("e1");
        assertThat(done.result()).isEqualTo(JobResult.FAILED);
        assertThat(done.error()).isEqualTo("Input/output error");
        fx.awaitTrailEnd("e1", "null");
        assertThat(errors("e1"))
                .containsExactly(
                        new JobEvent.BlockJobError("e1", IoOperation.READ, ErrorAction.STOP),
                        new JobEvent.BlockJobError("e1", IoOperation.READ, ErrorAction.REPORT));
        assertThat(BackingChain.cow(top)).isSameAs(fx.node("mid"));
        fx.close();
        assertBacking(chain.top(), "mid.qcow2", "qcow2");
        assertSameContent(before, chain.top());
        assertCheckCleanOrLeaksOnly(chain.top());
    }
}
