package dev.blockpull.graph;

import dev.blockpull.io.Zeros;
import dev.blockpull.format.Extent;
import dev.blockpull.format.Image;
import org.jspecify.annotations.Nullable;

import java.nio.ByteBuffer;
import java.util.List;

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

    /** Largest bounce buffer a copy uses at once; longer runs are copied in pieces. */
    private static final int MAX_BOUNCE = 4 << 20;

    /**
     * One reusable bounce buffer per thread. It is taken out while in use, so a nested copy (a
     * read below that passes another copy-on-read filter) allocates its own instead of sharing.
     */
    private static final ThreadLocal<ByteBuffer[]> BOUNCE = ThreadLocal.withInitial(() -> new ByteBuffer[1]);

    private final @Nullable BlockNode bottom;

    CopyOnReadFilter(String name, BlockNode child, @Nullable BlockNode bottom, boolean implicit,
                     DrainCoordinator drains) {
        super(name, Driver.COPY_ON_READ, child, implicit, drains);
        this.bottom = bottom;
    }

    /** The lowest layer whose data is copied; null: the whole chain. */
    public @Nullable BlockNode bottom() {
        return bottom;
    }

    @Override
    protected void doRead(long offset, ByteBuffer dst) {
        FormatNode top = target();
        if (top != null) {
            copyBelow(top, offset, dst.remaining());
        }
        child().read(offset, dst);
    }

    /**
     * A read that only copies (the stream job's prefetch, §3.2): nothing is returned, and nothing
     * is read where T already holds the data.
     */
    public void prefetch(long offset, long length) {
        requests().begin();
        try {
            prefetchUncounted(offset, length);
        } finally {
            requests().end();
        }
    }

    void prefetchUncounted(long offset, long length) {
        checkOpen();
        FormatNode top = target();
        long end = Math.min(offset + length, length());
        if (top != null && offset < end) {
            copyBelow(top, offset, end - offset);
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

    private void copyBelow(FormatNode top, long offset, long length) {
        Image image = top.image();
        long cs = image.clusterSize();
        long start = offset / cs * cs;
        long end = Math.min((offset + length + cs - 1) / cs * cs, top.length());
        if (start >= end || fullyAllocated(image.blockStatus(start, end - start))) {
            return; // the hot path: T holds it all; allocation never goes back to unallocated
        }
        RangeLocks.Range lock = top.lockClusters(start, end - start);
        try {
            for (Extent e : image.blockStatus(start, end - start)) {
                if (!e.kind().isAllocated()) {
                    copyUnallocated(top, image, cs, e.offset(), e.end());
                }
            }
        } finally {
            top.unlockClusters(lock);
        }
    }

    private static boolean fullyAllocated(List<Extent> extents) {
        for (Extent e : extents) {
            if (!e.kind().isAllocated()) {
                return false;
            }
        }
        return true;
    }

    /** Copies what the layers down to bottom hold of {@code [from, to)}, unallocated in T, cluster by run. */
    private void copyUnallocated(FormatNode top, Image image, long cs, long from, long to) {
        BlockNode below = top.backingNode();
        if (below == null) {
            return;
        }
        long pos = from;
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
            if (copy) {
                copy(below, top, image, pos, runEnd);
            }
            pos = runEnd;
        }
    }

    private static void copy(BlockNode below, FormatNode top, Image image, long from, long to) {
        ByteBuffer[] slot = BOUNCE.get();
        ByteBuffer buf = slot[0];
        slot[0] = null;
        int size = (int) Math.min(to - from, MAX_BOUNCE);
        if (buf == null || buf.capacity() < size) {
            buf = ByteBuffer.allocateDirect(size);
        }
        try {
            long pos = from;
            while (pos < to) {
                int n = (int) Math.min(to - pos, MAX_BOUNCE);
                buf.clear().limit(n);
                below.read(pos, buf);
                buf.flip();
                if (Zeros.isZero(buf, 0, n)) {
                    top.imageWriteZeroes(image, pos, n, false);
                } else {
                    top.imageWrite(image, pos, buf);
                }
                pos += n;
            }
        } finally {
            slot[0] = buf;
        }
    }

    private static long roundUp(long value, long unit) {
        return (value + unit - 1) / unit * unit;
    }
}
