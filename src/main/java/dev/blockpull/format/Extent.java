package dev.blockpull.format;

/**
 * A run of guest bytes with one allocation state in one layer: one row of
 * {@code qemu-img map --output=json} for a single image.
 *
 * @param offset     guest offset of the run
 * @param length     its length in bytes
 * @param kind       data, zero or unallocated
 * @param hostOffset where the bytes sit in the image file, or {@link #NO_HOST_OFFSET}
 *                   (unallocated, plain zero and compressed clusters have none; an unallocated
 *                   subcluster of an allocated extended-L2 cluster has one, as in QEMU)
 */
public record Extent(long offset, long length, ExtentKind kind, long hostOffset) {

    public static final long NO_HOST_OFFSET = -1;

    public Extent {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("bad extent " + offset + "+" + length);
        }
    }

    public long end() {
        return offset + length;
    }

    public boolean hasHostOffset() {
        return hostOffset != NO_HOST_OFFSET;
    }

    /** Whether {@code next} continues this run: adjacent, same kind, and host-contiguous where mapped. */
    public boolean continuedBy(Extent next) {
        if (next.offset != end() || next.kind != kind || next.hasHostOffset() != hasHostOffset()) {
            return false;
        }
        return !hasHostOffset() || next.hostOffset == hostOffset + length;
    }

    public Extent extendedBy(long bytes) {
        return new Extent(offset, length + bytes, kind, hostOffset);
    }
}
