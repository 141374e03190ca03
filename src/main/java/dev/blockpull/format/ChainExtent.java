package dev.blockpull.format;

/**
 * One row of {@code qemu-img map --output=json} for a whole chain.
 *
 * @param depth      0 for the top; the depth of the layer that provides the bytes; for runs no
 *                   layer holds, the depth where the lookup stopped (the bottom, or a layer
 *                   shorter than the run's offset), as QEMU reports it
 * @param kind       DATA, ZERO, or UNALLOCATED when no layer holds the run (reads as zeros;
 *                   {@code present: false, zero: true} in qemu-img's words)
 * @param hostOffset offset in the providing layer's file, or {@link Extent#NO_HOST_OFFSET}
 */
public record ChainExtent(long offset, long length, int depth, ExtentKind kind, long hostOffset) {

    public long end() {
        return offset + length;
    }

    /**
     * Appends {@code e} to {@code out}, merged into the last run where {@code qemu-img map} would
     * print one row: adjacent, same depth and kind, and host-contiguous where mapped.
     */
    public static void appendMerged(java.util.List<ChainExtent> out, ChainExtent e) {
        if (!out.isEmpty()) {
            ChainExtent p = out.get(out.size() - 1);
            boolean hostContiguous = p.hostOffset() == Extent.NO_HOST_OFFSET
                    ? e.hostOffset() == Extent.NO_HOST_OFFSET
                    : e.hostOffset() == p.hostOffset() + p.length();
            if (p.end() == e.offset() && p.depth() == e.depth() && p.kind() == e.kind() && hostContiguous) {
                out.set(
                        out.size() - 1,
                        new ChainExtent(p.offset(), p.length() + e.length(), p.depth(), p.kind(), p.hostOffset()));
                return;
            }
        }
        out.add(e);
    }
}
