package dev.blockpull.graph;

import dev.blockpull.format.AllocationRun;
import dev.blockpull.io.BufferPool;
import dev.blockpull.io.ReadHint;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/**
 * The {@code copy-on-read} filter (stream-semantics §5.1): a read through it first copies into the
 * top node T (its child, filters skipped) what T does not hold but a layer from T's backing down
 * to {@code bottom} does; then it reads as usual. Data only present below {@code bottom} is read
 * through without copying. Writes pass through.
 *
 * <p>Never overwriting a writer's data: a copy re-checks T's allocation and writes while holding
 * T's per-cluster range lock, which every write to T takes too while a filter is present, so a
 * copy fills only clusters that are unallocated at the moment it writes. Copies cover whole T
 * clusters, as QEMU's copy-on-read does; all-zero data is written as zeros (zero clusters in qcow2
 * v3), as QEMU does.
 */
public final class CopyOnReadFilter extends FilterNode {

    /** Largest buffer a guest read takes for its copy; longer runs are copied in pieces. */
    private static final int MAX_BOUNCE = 4 << 20;

    private final @Nullable BlockNode bottom;

    CopyOnReadFilter(
            String name, BlockNode child, @Nullable BlockNode bottom, boolean implicit, DrainCoordinator drains) {
        super(name, Driver.COPY_ON_READ, child, implicit, drains);
        this.bottom = bottom;
    }

    /** The lowest layer whose data is copied; null: the whole chain. */
    public @Nullable BlockNode bottom() {
        return bottom;
    }

    @Override
    protected void doRead(long offset, ByteBuffer dst, ReadHint hint) {
        FormatNode top = target();
        if (top != null) {
            copyBelow(top, offset, dst.remaining(), null);
        }
        child().read(offset, dst, hint);
    }

    /** The stream job's copy (§3.2): nothing is returned, and nothing is read where T already holds the data. */
    @Override
    protected void doPrefetch(long offset, long length, ByteBuffer scratch) {
        FormatNode top = target();
        if (top != null) {
            copyBelow(top, offset, length, scratch);
        }
    }

    /** T, when copying into it makes sense: a writable format node with a backing node. */
    private @Nullable FormatNode target() {
        BlockNode t = BackingChain.skipFilters(child());
        if (t instanceof FormatNode f && f.backingNode() != null && !f.isReadOnly()) {
            return f;
        }
        return null;
    }

    private void copyBelow(FormatNode top, long offset, long length, @Nullable ByteBuffer scratch) {
        long cs = top.clusterSize();
        long start = offset / cs * cs;
        long end = Math.min((offset + length + cs - 1) / cs * cs, top.length());
        if (start >= end || top.holdsAll(start, end - start)) {
            return; // the hot path: T holds it all; allocation never goes back to unallocated
        }
        ByteBuffer buf =
                scratch != null ? scratch : BufferPool.shared().acquire((int) Math.min(end - start, MAX_BOUNCE));
        try (RangeLocks.Range lock = top.lockClusters(start, end - start)) {
            for (long pos = start; pos < end; ) {
                AllocationRun run = top.allocation(pos, end - pos);
                if (run.length() == 0) {
                    break;
                }
                if (!run.allocated()) {
                    copyUnallocated(top, cs, pos, pos + run.length(), buf);
                }
                pos += run.length();
            }
        } finally {
            if (scratch == null) {
                BufferPool.shared().release(buf);
            }
        }
    }

    /**
     * Copies what the layers down to bottom hold of {@code [from, to)}, unallocated in T. Adjacent
     * runs held by different layers are copied as one run (one read through the chain, one write
     * into T): a chain whose layers alternate every few clusters still gets large writes.
     */
    private void copyUnallocated(FormatNode top, long cs, long from, long to, ByteBuffer buf) {
        BlockNode below = top.backingNode();
        if (below == null) {
            return;
        }
        long pos = from;
        long copyFrom = -1;
        while (pos < to) {
            Allocation a = BackingChain.isAllocatedAbove(below, bottom, true, pos, to - pos);
            boolean copy = a.isAllocated();
            long runEnd = a.run() <= 0 ? to : Math.min(to, pos + a.run());
            if (runEnd < to) {
                // whole T clusters: a cluster partly held by the intermediates is copied whole
                runEnd = copy ? roundUp(runEnd, cs) : runEnd / cs * cs;
                if (runEnd <= pos) {
                    copy = true;
                    runEnd = pos + cs;
                }
                runEnd = Math.min(runEnd, to);
            }
            if (copy && copyFrom < 0) {
                copyFrom = pos;
            } else if (!copy && copyFrom >= 0) {
                copy(below, top, copyFrom, pos, buf);
                copyFrom = -1;
            }
            pos = runEnd;
        }
        if (copyFrom >= 0) {
            copy(below, top, copyFrom, to, buf);
        }
    }

    /** Reads {@code [from, to)} below and writes it into T, a buffer's capacity at a time. */
    private void copy(BlockNode below, FormatNode top, long from, long to, ByteBuffer buf) {
        long pos = from;
        while (pos < to) {
            int n = (int) Math.min(to - pos, buf.capacity());
            buf.clear().limit(n);
            below.read(pos, buf, ReadHint.ONCE);
            buf.flip();
            passFiltersAbove(top, pos, n);
            top.writeLocked(pos, buf);
            pos += n;
        }
    }

    /** The write into T passes the filters between this filter and T, as it would in QEMU. */
    private void passFiltersAbove(FormatNode top, long offset, long length) {
        for (BlockNode n = child(); n != top && n instanceof FilterNode f; n = f.child()) {
            f.writeBelow(offset, length);
        }
    }

    private static long roundUp(long value, long unit) {
        return (value + unit - 1) / unit * unit;
    }
}
