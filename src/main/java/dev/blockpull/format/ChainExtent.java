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
}
