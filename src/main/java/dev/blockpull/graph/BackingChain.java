package dev.blockpull.graph;

import dev.blockpull.format.AllocationRun;
import dev.blockpull.format.ChainExtent;
import dev.blockpull.format.Extent;
import dev.blockpull.format.ExtentKind;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The chain helpers of stream-semantics §1.2 and §1.4, and the map of a whole chain. */
public final class BackingChain {

    private BackingChain() {}

    /** The filtered child of a filter, else the COW child, else null. */
    public static @Nullable BlockNode next(BlockNode n) {
        Link l = n.isFilter() ? n.filteredLink() : n.backingLink();
        return l == null ? null : l.child();
    }

    /** Follows filtered children while the node is a filter. */
    public static BlockNode skipFilters(BlockNode n) {
        BlockNode p = n;
        while (p.isFilter()) {
            BlockNode c = next(p);
            if (c == null) {
                return p;
            }
            p = c;
        }
        return p;
    }

    /** The COW (backing) child, or null. */
    public static @Nullable BlockNode cow(BlockNode n) {
        Link l = n.backingLink();
        return l == null ? null : l.child();
    }

    /** {@code skipFilters(cow(skipFilters(n)))}: the next data-bearing layer. */
    public static @Nullable BlockNode chainNext(BlockNode n) {
        BlockNode c = cow(skipFilters(n));
        return c == null ? null : skipFilters(c);
    }

    /** {@code n, next(n), next(next(n)), ...}: filters included, top first. */
    public static List<BlockNode> chain(BlockNode top) {
        List<BlockNode> out = new ArrayList<>();
        for (BlockNode p = top; p != null; p = next(p)) {
            out.add(p);
        }
        return out;
    }

    /** Whether {@code x} is in the chain of {@code top} (top itself counts). */
    public static boolean contains(BlockNode top, BlockNode x) {
        for (BlockNode p = top; p != null; p = next(p)) {
            if (p == x) {
                return true;
            }
        }
        return false;
    }

    /**
     * The overlay of {@code base} in the chain of {@code top}: the non-filter node {@code o} reached
     * from {@code skipFilters(top)} by {@link #chainNext} steps with {@code chainNext(o) ==
     * skipFilters(base)}; for a null base the last non-filter node. Null when base is not below.
     */
    public static @Nullable BlockNode findOverlay(BlockNode top, @Nullable BlockNode base) {
        BlockNode target = base == null ? null : skipFilters(base);
        BlockNode o = skipFilters(top);
        if (o == target) {
            return null;
        }
        while (true) {
            BlockNode n = chainNext(o);
            if (n == target) {
                return o;
            }
            if (n == null) {
                return null;
            }
            o = n;
        }
    }

    /**
     * Whether {@code n} (filters skipped) itself supplies the bytes at {@code offset}, and for how
     * many bytes up to {@code max} that answer holds. Zero clusters count as allocated.
     */
    public static Allocation isAllocated(BlockNode n, long offset, long max) {
        AllocationRun run = skipFilters(n).allocationRun(offset, max);
        return new Allocation(run.allocated() && run.length() > 0 ? 1 : 0, run.length());
    }

    /**
     * Whether any layer from {@code from} down to {@code to} ({@code to} itself when
     * {@code includeTo}; null = to the end of the chain) supplies the bytes at {@code offset}.
     * Filters are transparent. A layer shorter than {@code offset} supplies zeros there (QEMU 5.2
     * and later), so it counts as allocated for the rest of the range.
     */
    public static Allocation isAllocatedAbove(
            BlockNode from, @Nullable BlockNode to, boolean includeTo, long offset, long length) {
        BlockNode stop = to == null ? null : skipFilters(to);
        long n = length;
        int depth = 1;
        for (BlockNode p = skipFilters(from); p != null; p = chainNext(p), depth++) {
            if (p == stop && !includeTo) {
                break;
            }
            if (offset >= p.length()) {
                return new Allocation(depth, n);
            }
            Allocation a = isAllocated(p, offset, n);
            if (a.isAllocated()) {
                return new Allocation(depth, a.run());
            }
            if (a.run() > 0) {
                n = Math.min(n, a.run());
            }
            if (p == stop) {
                break;
            }
        }
        return new Allocation(0, n);
    }

    /**
     * {@code qemu-img map --output=json} of the chain below {@code top}: runs with the depth of the
     * layer that provides them (filters not counted), clipped to the top's length. Runs no layer
     * holds carry the depth where the lookup stopped: the bottom, or the layer whose backing ends
     * before the run.
     */
    public static List<ChainExtent> map(BlockNode top, long offset, long length) {
        BlockNode layer = skipFilters(top);
        List<ChainExtent> out = new ArrayList<>();
        long end = Math.min(layer.length(), offset + Math.max(0, length));
        if (offset >= 0 && offset < end) {
            map(layer, 0, offset, end, out);
        }
        return out;
    }

    private static void map(BlockNode layer, int depth, long offset, long end, List<ChainExtent> out) {
        if (offset >= layer.length()) {
            ChainExtent.appendMerged(
                    out, new ChainExtent(offset, end - offset, depth, ExtentKind.UNALLOCATED, Extent.NO_HOST_OFFSET));
            return;
        }
        BlockNode below = chainNext(layer);
        long inside = Math.min(end, layer.length());
        for (Extent e : layer.blockStatus(offset, inside - offset)) {
            if (e.kind().isAllocated()) {
                ChainExtent.appendMerged(out, new ChainExtent(e.offset(), e.length(), depth, e.kind(), e.hostOffset()));
            } else if (below != null) {
                // past the end of a shorter backing, QEMU answers for the layer above it (qemu-img 7.2)
                long split = Math.min(e.end(), Math.max(e.offset(), below.length()));
                if (split > e.offset()) {
                    map(below, depth + 1, e.offset(), split, out);
                }
                if (split < e.end()) {
                    ChainExtent.appendMerged(
                            out,
                            new ChainExtent(
                                    split, e.end() - split, depth, ExtentKind.UNALLOCATED, Extent.NO_HOST_OFFSET));
                }
            } else {
                ChainExtent.appendMerged(
                        out,
                        new ChainExtent(e.offset(), e.length(), depth, ExtentKind.UNALLOCATED, Extent.NO_HOST_OFFSET));
            }
        }
        if (inside < end) {
            ChainExtent.appendMerged(
                    out, new ChainExtent(inside, end - inside, depth, ExtentKind.UNALLOCATED, Extent.NO_HOST_OFFSET));
        }
    }
}
