package dev.blockpull.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Permissions, op blockers, frozen links, backing changes and closing: what holds a node and what that refuses. */
class HoldingNodesTests {

    @TempDir
    Path dir;

    GraphFixture fx;
    Chain chain;
    FormatNode top;
    FormatNode mid;
    FormatNode base;

    @BeforeEach
    void setUp() {
        chain = Chains.baseMidTop(QemuTools.require(), dir);
        fx = new GraphFixture(dir);
        top = fx.open("top", "top.qcow2");
        mid = (FormatNode) top.backingNode();
        base = (FormatNode) mid.backingNode();
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void aClaimThatTakesWhatAnotherDoesNotShareConflictsWithQemusMessage() {
        Holder job = Holder.job("stream", "job0");
        PermissionClaim intermediate = mid.permissions()
                .claim(
                        job,
                        "intermediate node",
                        Set.of(),
                        EnumSet.of(Permission.CONSISTENT_READ, Permission.WRITE_UNCHANGED));

        assertThatThrownBy(() -> mid.permissions()
                        .claim(
                                Holder.export("vm1"),
                                "root",
                                EnumSet.of(Permission.WRITE),
                                EnumSet.allOf(Permission.class)))
                .isInstanceOf(PermissionConflictException.class)
                .hasMessage("Permission conflict on node '" + mid.name()
                        + "': permissions 'write' are both required by "
                        + "export 'vm1' (uses node '" + mid.name() + "' as 'root' child) and unshared by stream job "
                        + "'job0' (uses node '" + mid.name() + "' as 'intermediate node' child).");
        assertThat(mid.permissions().allows(Permission.RESIZE)).isFalse();
        assertThat(fx.graph.usedBy(mid)).containsExactly("job0");

        intermediate.release();
        assertThat(mid.permissions().allows(Permission.WRITE)).isTrue();
        assertThat(fx.graph.usedBy(mid)).isEmpty();
    }

    @Test
    void blockedOperationsFailWithQemusBusyMessage() {
        OpBlocker blocker = top.block(Holder.job("stream", "job0"), OpBlocker.all(), OpBlocker.jobReason("stream"));

        assertThatThrownBy(() -> top.checkNotBlocked(BlockOp.STREAM))
                .isInstanceOf(NodeBusyException.class)
                .hasMessage("Node 'top' is busy: block device is in use by block job: stream");
        assertThatThrownBy(() -> fx.graph.close("top", null)).isInstanceOf(NodeBusyException.class);
        assertThatThrownBy(() -> fx.graph.snapshot("top", "snap.qcow2", "snap", null))
                .isInstanceOf(NodeBusyException.class);

        blocker.remove();
        top.checkNotBlocked(BlockOp.STREAM);
    }

    @Test
    void frozenLinksCannotChangeNorBeFrozenTwice() {
        FrozenChain frozen = fx.graph.freezeChain(top, base);

        assertThat(frozen.links()).extracting(Link::parent).containsExactly(top, mid);
        assertThat(base.backingLink().isFrozen()).isFalse();
        try (DrainedSection s = fx.graph.drain(top)) {
            assertThatThrownBy(() -> fx.graph.setBacking(s, top, base))
                    .isInstanceOf(FrozenLinkException.class)
                    .hasMessage("Cannot change 'backing' link from 'top' to '" + mid.name() + "'");
            assertThatThrownBy(() -> fx.graph.insertCopyOnReadFilter(s, mid, null, null))
                    .isInstanceOf(FrozenLinkException.class);
        }
        assertThatThrownBy(() -> fx.graph.freezeChain(mid, null))
                .isInstanceOf(FrozenLinkException.class)
                .hasMessage("Cannot change 'backing' link from '" + mid.name() + "' to '" + base.name() + "'");

        frozen.release();
        frozen.release();
        fx.graph.freezeChain(mid, null).release();
    }

    /**
     * Two parallel streams on one chain (checklist 44): one job's completion points its top at
     * the node after its above-base, which may be the other job's filter, while that job drops
     * the filter. Read and set under one graph lock, the link never meets the filter closed.
     */
    @Test
    void theBackingSetToTheNodeAfterAnotherIsNeverAFilterClosedMeanwhile() throws Exception {
        Attachment keepsMidOpen =
                fx.graph.attach(Holder.export("vm1"), mid, true, Set.of(), EnumSet.allOf(Permission.class));
        int rounds = 300;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> filters = pool.submit(() -> {
                for (int i = 0; i < rounds; i++) {
                    CopyOnReadFilter f;
                    try (DrainedSection s = fx.graph.drain(base)) {
                        f = fx.graph.insertCopyOnReadFilter(s, base, null, null);
                    }
                    try (DrainedSection s = fx.graph.drain(f)) {
                        fx.graph.dropFilter(s, f);
                    }
                }
                return null;
            });
            Future<?> relinks = pool.submit(() -> {
                for (int i = 0; i < rounds; i++) {
                    try (DrainedSection s = fx.graph.drain(top)) {
                        fx.graph.setBackingToNextOf(s, top, mid);
                        fx.graph.setBacking(s, top, mid);
                    }
                }
                return null;
            });
            filters.get(60, TimeUnit.SECONDS);
            relinks.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        keepsMidOpen.close();

        assertThat(BackingChain.chain(top)).containsExactly(top, mid, base);
        assertThat(GraphFixture.readAll(top)).isEqualTo(chain.expected());
    }

    @Test
    void repointingTheBackingLinkKeepsContentWhenTheDataIsThereAndClosesTheUnusedImplicitNode() {
        String midName = mid.name();
        CopyOnReadFilter filter;
        try (DrainedSection s = fx.graph.drain(top)) {
            filter = fx.graph.insertCopyOnReadFilter(s, top, null, mid);
        }
        filter.prefetch(
                0,
                top.length(),
                ByteBuffer.allocateDirect(1 << 20)); // what a stream job does: copy mid's data into top

        try (DrainedSection s = fx.graph.drain(top)) {
            fx.graph.dropFilter(s, filter);
            fx.graph.setBacking(s, top, base);
        }

        assertThat(top.backingNode()).isSameAs(base);
        assertThat(fx.graph.find(midName))
                .as("mid was implicit and is unused now")
                .isEmpty();
        assertThat(mid.isClosed()).isTrue();
        assertThat(GraphFixture.readAll(top)).isEqualTo(chain.expected());
    }

    @Test
    void aNodeInUseCannotBeClosedAndClosingATopClosesItsImplicitChain() {
        assertThatThrownBy(() -> fx.graph.close(mid.name(), null))
                .isInstanceOf(NodeInUseException.class)
                .hasMessageContaining("backing child of node 'top'");
        Attachment export = fx.graph.attach(Holder.export("vm1"), top, true, Set.of(), EnumSet.allOf(Permission.class));
        assertThatThrownBy(() -> fx.graph.close("top", null))
                .isInstanceOf(NodeInUseException.class)
                .hasMessageContaining("vm1");
        export.close();

        fx.graph.close("top", null);

        assertThat(fx.graph.nodes()).isEmpty();
        assertThat(base.isClosed()).isTrue();
        assertThatThrownBy(() -> fx.graph.get("top"))
                .isInstanceOf(NodeNotFoundException.class)
                .hasMessage("Failed to find node with node-name='top'");
    }

    @Test
    void aSnapshotBecomesTheActiveTopAndTheOldTopTurnsReadOnly() {
        Attachment guest = fx.graph.attach(Holder.export("vm1"), top, true, Set.of(), EnumSet.allOf(Permission.class));

        FormatNode snap = fx.graph.snapshot("top", "snaps/s1.qcow2", "s1", null);

        assertThat(snap.backingNode()).isSameAs(top);
        assertThat(guest.root()).isSameAs(snap);
        assertThat(top.isReadOnly()).isTrue();
        assertThat(snap.headerBacking()).hasValueSatisfying(ref -> {
            assertThat(ref.fileName()).isEqualTo("../top.qcow2");
            assertThat(ref.format()).hasToString("qcow2");
        });
        assertThat(GraphFixture.readAll(snap)).isEqualTo(chain.expected());
        assertThatThrownBy(() -> fx.graph.snapshot("s1", "snaps/s1.qcow2", "s2", null))
                .hasMessageContaining("already exists");
        assertThatThrownBy(() -> fx.graph.snapshot("s1", "snaps/s2.qcow2", "top", null))
                .hasMessage("Duplicate nodes with node-name='top'");
    }

    @Test
    void chainHelpersFollowStreamSemantics() {
        CopyOnReadFilter filter;
        try (DrainedSection s = fx.graph.drain(mid)) {
            filter = fx.graph.insertCopyOnReadFilter(s, mid, "f", null);
        }

        assertThat(BackingChain.next(top)).isSameAs(filter);
        assertThat(BackingChain.next(filter)).isSameAs(mid);
        assertThat(BackingChain.skipFilters(filter)).isSameAs(mid);
        assertThat(BackingChain.chainNext(top)).isSameAs(mid);
        assertThat(BackingChain.contains(top, filter)).isTrue();
        assertThat(BackingChain.contains(mid, top)).isFalse();
        assertThat(BackingChain.findOverlay(top, base)).isSameAs(mid);
        assertThat(BackingChain.findOverlay(top, filter)).isSameAs(top);
        assertThat(BackingChain.findOverlay(top, null)).isSameAs(base);
        // mid's cluster at 512K (0x22 over base's 0x16): depth 2 counted from top, filters not counted
        assertThat(BackingChain.isAllocatedAbove(top, base, true, 512 * 1024, 64 * 1024))
                .isEqualTo(new Allocation(2, 64 * 1024));
        // 0x11 at 0 lives in base only: not allocated above base when base is excluded
        assertThat(BackingChain.isAllocatedAbove(top, base, false, 0, 64 * 1024).isAllocated())
                .isFalse();
        assertThat(BackingChain.isAllocatedAbove(top, base, true, 0, 64 * 1024).depth())
                .isEqualTo(3);
        assertThat(BackingChain.isAllocated(top, 768 * 1024, 1024 * 1024)).isEqualTo(new Allocation(1, 64 * 1024));
    }
}
