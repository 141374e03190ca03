package dev.blockpull.stream;

import static dev.blockpull.testsupport.AssertImages.assertBacking;
import static dev.blockpull.testsupport.AssertImages.assertCheckClean;
import static dev.blockpull.testsupport.AssertImages.assertContent;
import static dev.blockpull.testsupport.AssertImages.assertSameContent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.blockpull.graph.Attachment;
import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.DrainedSection;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.graph.Holder;
import dev.blockpull.graph.Permission;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.IoGate;
import dev.blockpull.job.JobEvent;
import dev.blockpull.job.JobResult;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.MapEntry;
import dev.blockpull.testsupport.QemuPattern;
import dev.blockpull.testsupport.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Verbs, speed, finalize/dismiss, guest I/O and drains while a stream job runs (stream-semantics §3.5, §5, §6–§8). */
class StreamControlTests {

    static final long KIB = StreamFixture.KIB;
    static final long MIB = StreamFixture.MIB;
    static final String BUSY = "block device is in use by block job: stream";

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
        chain = Chains.baseMidTop(qemu, dir);
        before = fx.snapshotRaw(chain.top(), "before.raw");
        top = fx.openBaseMidTop("base.qcow2");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private IoGate midGate() {
        return fx.images.file(chain.path("mid.qcow2")).gate();
    }

    /** A job held mid-copy at mid's gate: known to be busy with I/O in flight. */
    private JobView startHeld(Req request) throws InterruptedException {
        midGate().close();
        JobView v = fx.start(request.build());
        assertThat(midGate().awaitWaiting(1, StreamFixture.WAIT))
                .as("the job reached mid's gate")
                .isTrue();
        return v;
    }

    private void assertChainUnchanged() {
        assertThat(BackingChain.cow(top)).isSameAs(fx.node("mid"));
        assertThat(fx.filters()).isEmpty();
        fx.close();
        assertBacking(chain.top(), "mid.qcow2", "qcow2");
        assertSameContent(before, chain.top());
        assertCheckClean(chain.top());
    }

    @Test
    @DisplayName(
            "checklist 25: pause: paused=true at once; status paused and busy=false at the pause point; offset constant; resume finishes")
    void checklist25_pause() throws Exception {
        startHeld(Req.device("top").id("p"));
        JobView requested = fx.scheduler.pause("p");
        assertThat(requested.paused()).isTrue();
        assertThat(requested.status()).as("still in its copy").isEqualTo(JobStatus.RUNNING);
        assertThat(requested.busy()).isTrue();
        midGate().open();
        JobView parked = fx.awaitStatus("p", JobStatus.PAUSED);
        assertThat(parked.busy()).isFalse();
        assertThat(fx.view("p").currentProgress()).isEqualTo(parked.currentProgress());
        assertThat(parked.currentProgress()).isLessThan(parked.totalProgress());
        fx.scheduler.resume("p");
        assertThat(fx.awaitFinished("p").result()).isEqualTo(JobResult.COMPLETED);
        assertThat(fx.trail("p")).containsSubsequence("running", "paused", "running", "concluded");
    }

    @Test
    @DisplayName("checklist 26: second pause and resume of a running job are refused with QEMU's texts")
    void checklist26_pauseResumeErrors() {
        fx.start(Req.device("top").id("p2").speed(1).build());
        assertThatThrownBy(() -> fx.scheduler.resume("p2"))
                .isInstanceOf(BlockException.class)
                .hasMessage("Can't resume a job that was not paused");
        fx.scheduler.pause("p2");
        assertThatThrownBy(() -> fx.scheduler.pause("p2"))
                .isInstanceOf(BlockException.class)
                .hasMessage("Job is already paused");
        fx.scheduler.cancel("p2");
        fx.awaitFinished("p2");
    }

    @Test
    @DisplayName(
            "checklist 27: cancel of a running job: BLOCK_JOB_CANCELLED, aborting->concluded->null, chain and header unchanged, filter removed")
    void checklist27_cancel() throws Exception {
        startHeld(Req.device("top").id("c"));
        fx.scheduler.cancel("c");
        midGate().open();
        JobView done = fx.awaitFinished("c");
        assertThat(done.result()).isEqualTo(JobResult.CANCELLED);
        assertThat(done.error()).isEqualTo("Operation canceled");
        List<String> trail = fx.awaitTrailEnd("c", "null");
        assertThat(trail).containsSubsequence("running", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null");
        assertThat(trail).doesNotContain("BLOCK_JOB_COMPLETED", "waiting", "pending");
        assertChainUnchanged();
    }

    @Test
    @DisplayName(
            "checklist 28: block-job-cancel without force on a user-paused job is refused; force and job-cancel work")
    void checklist28_cancelPaused() {
        fx.start(Req.device("top").id("bp").speed(1).build());
        fx.scheduler.pause("bp");
        assertThatThrownBy(() -> fx.scheduler.blockJobCancel("bp", false))
                .isInstanceOf(BlockException.class)
                .hasMessage("The block job for device 'bp' is currently paused");
        fx.scheduler.blockJobCancel("bp", true);
        assertThat(fx.awaitFinished("bp").result()).isEqualTo(JobResult.CANCELLED);

        fx.start(Req.device("top").id("gp").speed(1).build());
        fx.scheduler.pause("gp");
        fx.scheduler.cancel("gp");
        assertThat(fx.awaitFinished("gp").result()).isEqualTo(JobResult.CANCELLED);
        assertChainUnchanged();
    }

    @Test
    @DisplayName("checklist 29: default speed 0 is reported; a set-speed value is reported immediately")
    void checklist29_speedReported() {
        JobView v = fx.start(Req.device("top").id("sp").speed(1).build());
        assertThat(v.speed()).isEqualTo(1);
        assertThat(fx.scheduler.setSpeed("sp", 12345).speed()).isEqualTo(12345);
        assertThat(fx.view("sp").speed()).isEqualTo(12345);
        fx.scheduler.cancel("sp");
        fx.awaitFinished("sp");
        JobView unlimited = fx.start(Req.device("top").id("zero").build());
        assertThat(unlimited.speed()).isZero();
        fx.awaitFinished("zero");
    }

    @Test
    @DisplayName(
            "checklist 30: with speed S a copy of D bytes takes at least (D - 512 KiB)/S; skipped regions cost nothing")
    void checklist30_rateLimit() throws Exception {
        fx.close();
        fx = new StreamFixture(dir);
        java.nio.file.Files.createDirectories(dir.resolve("rl"));
        java.nio.file.Files.createDirectories(dir.resolve("full"));
        Chain c = Chains.in(qemu, dir.resolve("rl"))
                .base("base.qcow2", "qcow2", 4 * MIB)
                .overlay("mid.qcow2")
                .write(0, 2 * MIB, 0x22)
                .overlay("top.qcow2")
                .write(2 * MIB, 2 * MIB, 0x33)
                .build();
        fx.openChain(
                new String[] {"rtop", "rmid", "rbase"}, new String[] {"rl/top.qcow2", "rl/mid.qcow2", "rl/base.qcow2"});
        long speed = 4 * MIB;
        long t0 = System.nanoTime();
        fx.start(Req.device("rtop").id("rl").speed(speed).build());
        assertThat(fx.awaitFinished("rl").result()).isEqualTo(JobResult.COMPLETED);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double floor = (2.0 * MIB - 512 * KIB) / speed;
        assertThat(seconds)
                .as("2 MiB copied at 4 MiB/s, 2 MiB allocated in the top skipped")
                .isGreaterThan(floor * 0.9);

        // a fully allocated top at 1 KiB/s: nothing is copied, nothing is paid for
        fx.close();
        fx = new StreamFixture(dir);
        Chains.in(qemu, dir.resolve("full"))
                .base("base.qcow2", "qcow2", 4 * MIB)
                .write(0, 4 * MIB, 0x11)
                .overlay("top.qcow2")
                .write(0, 4 * MIB, 0x44)
                .build();
        fx.openChain(new String[] {"ftop", "fbase"}, new String[] {"full/top.qcow2", "full/base.qcow2"});
        fx.start(Req.device("ftop").id("free").speed(1024).build());
        assertThat(fx.awaitFinished("free").result()).isEqualTo(JobResult.COMPLETED);
        fx.close();
        assertSameContent(before, chain.top());
        assertContent(c.top(), c.expected());
    }

    @Test
    @DisplayName("checklist 31: speed 0 on a job sleeping in the limiter lets it finish promptly")
    void checklist31_speedZeroWakes() {
        fx.start(Req.device("top").id("wake").speed(1024).build());
        await().atMost(StreamFixture.WAIT)
                .until(() -> fx.view("wake").currentProgress() > 0
                        && !fx.view("wake").busy());
        fx.scheduler.setSpeed("wake", 0);
        assertThat(fx.awaitFinished("wake").result()).isEqualTo(JobResult.COMPLETED);
    }

    @Test
    @DisplayName(
            "checklist 32: autoFinalize=false waits in pending (BLOCK_JOB_PENDING), chain unchanged and filter present until finalize")
    void checklist32_manualFinalize() {
        fx.start(Req.device("top").id("mf").filter("mf-filter").manualFinalize().build());
        fx.awaitStatus("mf", JobStatus.PENDING);
        await().atMost(StreamFixture.WAIT)
                .until(() -> !fx.eventsOf("mf", JobEvent.BlockJobPending.class).isEmpty());
        assertThat(fx.eventsOf("mf", JobEvent.BlockJobPending.class))
                .containsExactly(new JobEvent.BlockJobPending("stream", "mf"));
        assertThat(fx.filters()).containsExactly("mf-filter");
        assertThat(BackingChain.cow(top)).isSameAs(fx.node("mid"));
        assertThat(top.headerBacking().orElseThrow().fileName()).isEqualTo("mid.qcow2");
        assertThatThrownBy(() -> fx.scheduler.dismiss("mf"))
                .isInstanceOf(BlockException.class)
                .hasMessage("Job 'mf' in state 'pending' cannot accept command verb 'dismiss'");

        fx.scheduler.finalizeJob("mf");
        assertThat(fx.awaitFinished("mf").result()).isEqualTo(JobResult.COMPLETED);
        assertThat(fx.filters()).isEmpty();
        assertThat(BackingChain.cow(top)).isNull();
        fx.close();
        assertBacking(chain.top(), null, null);
        assertSameContent(before, chain.top());
    }

    @Test
    @DisplayName("checklist 33: cancel in pending aborts: chain unchanged, BLOCK_JOB_CANCELLED")
    void checklist33_cancelPending() {
        fx.start(Req.device("top").id("cp").manualFinalize().build());
        fx.awaitStatus("cp", JobStatus.PENDING);
        fx.scheduler.cancel("cp");
        assertThat(fx.awaitFinished("cp").result()).isEqualTo(JobResult.CANCELLED);
        assertThat(fx.awaitTrailEnd("cp", "null"))
                .containsSubsequence("pending", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null");
        assertChainUnchanged();
    }

    @Test
    @DisplayName(
            "checklist 34: autoDismiss=false stays concluded (with error if failed) until dismiss; node listing keeps working")
    void checklist34_manualDismiss() {
        fx.images.file(chain.path("mid.qcow2")).failReads(0, 1L << 40);
        fx.start(Req.device("top").id("md").manualDismiss().build());
        JobView concluded = fx.awaitStatus("md", JobStatus.CONCLUDED);
        assertThat(concluded.error()).isEqualTo("Input/output error");
        assertThat(fx.graph.nodes()).isNotEmpty();
        assertThat(fx.filters()).isEmpty();
        assertThat(fx.scheduler.dismiss("md").status()).isEqualTo(JobStatus.NULL);
        assertThat(fx.scheduler.get("md").result()).isEqualTo(JobResult.FAILED);
    }

    @Test
    @DisplayName("checklist 35: verbs outside the table are refused (complete/finalize on a running stream)")
    void checklist35_verbTable() {
        fx.start(Req.device("top").id("vt").speed(1).build());
        assertThatThrownBy(() -> fx.scheduler.complete("vt"))
                .isInstanceOf(BlockException.class)
                .hasMessage("Job 'vt' in state 'running' cannot accept command verb 'complete'");
        assertThatThrownBy(() -> fx.scheduler.finalizeJob("vt"))
                .isInstanceOf(BlockException.class)
                .hasMessage("Job 'vt' in state 'running' cannot accept command verb 'finalize'");
        assertThatThrownBy(() -> fx.scheduler.dismiss("vt"))
                .isInstanceOf(BlockException.class)
                .hasMessage("Job 'vt' in state 'running' cannot accept command verb 'dismiss'");
        fx.scheduler.cancel("vt");
        fx.awaitFinished("vt");
    }

    @Test
    @DisplayName("checklist 37: unknown job id")
    void checklist37_unknownJob() {
        assertThatThrownBy(() -> fx.scheduler.get("nope"))
                .isInstanceOf(BlockException.class)
                .hasMessageContaining("not found");
        assertThatThrownBy(() -> fx.scheduler.pause("nope"))
                .isInstanceOf(BlockException.class)
                .hasMessageContaining("not found");
    }

    @Test
    @DisplayName(
            "checklist 40: reads through the device during the job copy intermediate data into the top, never base data")
    void checklist40_guestReadsCopy() {
        Attachment guest = fx.graph.attach(
                Holder.export("guest"), top, true, Set.of(Permission.CONSISTENT_READ), EnumSet.allOf(Permission.class));
        fx.start(Req.device("top").id("gr").baseNode("base").speed(1).build());
        await().atMost(StreamFixture.WAIT)
                .until(() ->
                        fx.view("gr").currentProgress() > 0 && !fx.view("gr").busy());
        ByteBuffer all = ByteBuffer.allocate((int) guest.length());
        guest.read(0, all);
        fx.scheduler.cancel("gr");
        assertThat(fx.awaitFinished("gr").result()).isEqualTo(JobResult.CANCELLED);
        guest.close();
        assertThat(all.array()).isEqualTo(chain.expected());
        fx.close();
        List<MapEntry> map = qemu.map(chain.top());
        assertThat(map).as("nothing left to read from mid").noneMatch(e -> e.depth() == 1 && e.present());
        assertThat(map).as("base-only data stays in base").anyMatch(e -> e.depth() == 2 && e.data() && e.contains(0));
        assertBacking(chain.top(), "mid.qcow2", "qcow2");
        assertSameContent(before, chain.top());
        assertCheckClean(chain.top());
    }

    @Test
    @DisplayName("checklist 41: a guest write racing a copy of the same chunk is never overwritten")
    void checklist41_guestWritesWin() throws Exception {
        Attachment guest = fx.graph.attach(
                Holder.export("guest"), top, true, Set.of(Permission.WRITE), EnumSet.allOf(Permission.class));
        BlockNode mid = fx.node("mid");
        BackingChain.isAllocated(mid, 0, mid.length()); // mid's tables cached: the gate holds data reads only
        startHeld(Req.device("top").id("gw"));
        // the job is inside its copies of mid's data (mid holds [512K, 576K), the top does not); the guest writes over
        // it
        ByteBuffer data = ByteBuffer.allocate((int) (64 * KIB));
        QemuPattern.fill(data.array(), 0, data.capacity(), 0x5a);
        CompletableFuture<Void> write = CompletableFuture.runAsync(() -> guest.write(512 * KIB, data));
        midGate().open();
        write.get(30, TimeUnit.SECONDS);
        assertThat(fx.awaitFinished("gw").result()).isEqualTo(JobResult.COMPLETED);
        guest.close();
        byte[] expected = chain.expected();
        QemuPattern.fill(expected, 512 * KIB, 64 * KIB, 0x5a);
        fx.close();
        assertContent(chain.top(), expected);
        assertBacking(chain.top(), null, null);
        assertCheckClean(chain.top());
    }

    @Test
    @DisplayName(
            "checklist 42: writing an intermediate, resizing device or intermediate, deleting involved nodes are refused")
    void checklist42_refusedWhileRunning() {
        fx.start(Req.device("top").id("busy").baseNode("base").speed(1).build());
        BlockNode mid = fx.node("mid");
        assertThatThrownBy(() -> fx.graph.attach(
                        Holder.export("w"), mid, true, Set.of(Permission.WRITE), EnumSet.allOf(Permission.class)))
                .isInstanceOf(BlockException.class)
                .hasMessageContaining("Permission conflict on node 'mid'");
        assertThatThrownBy(() -> fx.graph.attach(
                        Holder.export("r"), mid, true, Set.of(Permission.RESIZE), EnumSet.allOf(Permission.class)))
                .isInstanceOf(BlockException.class)
                .hasMessageContaining("resize");
        assertThatThrownBy(() -> fx.graph.attach(
                        Holder.export("r"), top, true, Set.of(Permission.RESIZE), EnumSet.allOf(Permission.class)))
                .isInstanceOf(BlockException.class)
                .hasMessageContaining("resize");
        for (String n : List.of("top", "mid")) {
            assertThatThrownBy(() -> fx.graph.close(n, null))
                    .isInstanceOf(BlockException.class)
                    .hasMessage("Node '" + n + "' is busy: " + BUSY);
        }
        // the guest may still write the device
        fx.graph
                .attach(Holder.export("ok"), top, true, Set.of(Permission.WRITE), EnumSet.allOf(Permission.class))
                .close();
        fx.scheduler.cancel("busy");
        fx.awaitFinished("busy");
    }

    @Test
    @DisplayName(
            "checklist 43: a second stream touching device, filter or intermediates is refused with QEMU's busy message")
    void checklist43_busy() {
        fx.close();
        qemu.createOverlay(dir.resolve("over.qcow2"), chain.top());
        fx = new StreamFixture(dir);
        fx.openChain(
                new String[] {"over", "top", "mid", "base"},
                new String[] {"over.qcow2", "top.qcow2", "mid.qcow2", "base.qcow2"});
        fx.start(Req.device("top")
                .id("first")
                .baseNode("base")
                .filter("stream-filter")
                .speed(1)
                .build());
        assertThatThrownBy(() -> fx.start(Req.device("top").id("x").build()))
                .isInstanceOf(BlockException.class)
                .hasMessage("Node 'top' is busy: " + BUSY);
        assertThatThrownBy(() -> fx.start(Req.device("mid").id("x").build()))
                .isInstanceOf(BlockException.class)
                .hasMessage("Node 'mid' is busy: " + BUSY);
        assertThatThrownBy(() ->
                        fx.start(Req.device("over").id("x").baseNode("mid").build()))
                .isInstanceOf(BlockException.class)
                .hasMessage("Node 'stream-filter' is busy: " + BUSY);
        assertThatThrownBy(() -> fx.start(Req.device("stream-filter").id("x").build()))
                .isInstanceOf(BlockException.class)
                .hasMessage("Node 'stream-filter' is busy: " + BUSY);
        // the base is not blocked: a stream below the first one's base is allowed
        assertThat(fx.filters()).containsExactly("stream-filter");
        fx.scheduler.setSpeed("first", 0);
        assertThat(fx.awaitFinished("first").result()).isEqualTo(JobResult.COMPLETED);
    }

    @Test
    @DisplayName(
            "checklist 47: a drain of a running job with speed 0 and a fully allocated top completes in bounded time")
    void checklist47_drainCompletes() throws Exception {
        fx.close();
        fx = new StreamFixture(dir);
        java.nio.file.Files.createDirectories(dir.resolve("d"));
        Chain full = Chains.in(qemu, dir.resolve("d"))
                .base("base.qcow2", "qcow2", 64 * MIB)
                .overlay("top.qcow2")
                .write(0, 64 * MIB, 0x44)
                .build();
        FormatNode t = fx.openChain(new String[] {"dtop", "dbase"}, new String[] {"d/top.qcow2", "d/base.qcow2"});
        IoGate gate = fx.images.file(full.top()).gate();
        gate.close();
        fx.start(Req.device("dtop").id("dr").build());
        assertThat(gate.awaitWaiting(1, StreamFixture.WAIT))
                .as("the job reads the top's allocation")
                .isTrue();
        CompletableFuture<DrainedSection> drain =
                CompletableFuture.supplyAsync(() -> fx.graph.drain(t, null, Duration.ofSeconds(20)));
        await().atMost(StreamFixture.WAIT).until(() -> fx.view("dr").paused());
        gate.open();
        DrainedSection section = drain.get(30, TimeUnit.SECONDS);
        JobView parked = fx.view("dr");
        assertThat(parked.status()).isEqualTo(JobStatus.PAUSED);
        assertThat(parked.busy()).isFalse();
        assertThat(parked.currentProgress()).isLessThan(parked.totalProgress());
        assertThatThrownBy(() -> fx.scheduler.resume("dr"))
                .as("an internal pause is not a user pause")
                .isInstanceOf(BlockException.class);
        section.close();
        assertThat(fx.awaitFinished("dr").result()).isEqualTo(JobResult.COMPLETED);
    }
}
