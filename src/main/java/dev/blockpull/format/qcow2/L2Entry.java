package dev.blockpull.format.qcow2;

import dev.blockpull.io.InvalidImageException;

/** Bit layout of L1 and L2 entries (qcow2-notes §5.2-§5.6). */
final class L2Entry {

    static final long COPIED = 1L << 63;
    static final long COMPRESSED = 1L << 62;
    static final long ZERO = 1L;
    static final long OFFSET_MASK = 0x00FFFFFFFFFFFE00L;
    static final long STD_RESERVED = 0x3F000000000001FEL;
    static final long L1_RESERVED = 0x7F000000000001FFL;

    private L2Entry() {}

    static long hostOffset(long entry) {
        return entry & OFFSET_MASK;
    }

    static boolean isCopied(long entry) {
        return (entry & COPIED) != 0;
    }

    /** Type of a standard (non-extended) entry; {@code v3} decides whether the zero bit is legal. */
    static ClusterType type(long entry, boolean v3) {
        if ((entry & COMPRESSED) != 0) {
            return ClusterType.COMPRESSED;
        }
        if ((entry & ZERO) != 0) {
            if (!v3) {
                throw new InvalidImageException("Zero cluster entry found in pre-v3 image");
            }
            return hostOffset(entry) != 0 ? ClusterType.ZERO_ALLOC : ClusterType.ZERO_PLAIN;
        }
        if ((entry & STD_RESERVED) != 0) {
            throw new InvalidImageException("L2 entry 0x" + Long.toHexString(entry) + " has reserved bits set");
        }
        return hostOffset(entry) == 0 ? ClusterType.UNALLOCATED_PLAIN : ClusterType.NORMAL;
    }

    /**
     * Type of subcluster {@code sc} of an extended entry: {@code entry} is the standard word,
     * {@code bitmap} the allocation (bits 0-31) and zero (bits 32-63) bitmap.
     */
    static ClusterType subclusterType(long entry, long bitmap, int sc) {
        if ((entry & COMPRESSED) != 0) {
            if (bitmap != 0) {
                throw new InvalidImageException("Compressed extended L2 entry has a non-zero bitmap");
            }
            return ClusterType.COMPRESSED;
        }
        if ((entry & (STD_RESERVED | ZERO)) != 0) {
            throw new InvalidImageException(
                    "Extended L2 entry 0x" + Long.toHexString(entry) + " has reserved bits set");
        }
        int allocMask = (int) bitmap;
        int zeroMask = (int) (bitmap >>> 32);
        if ((allocMask & zeroMask) != 0) {
            throw new InvalidImageException("Extended L2 bitmap marks a subcluster both allocated and zero");
        }
        boolean hasHost = hostOffset(entry) != 0;
        if (!hasHost && allocMask != 0) {
            throw new InvalidImageException("Extended L2 entry allocates subclusters without a host cluster");
        }
        boolean zero = (zeroMask & (1 << sc)) != 0;
        boolean alloc = (allocMask & (1 << sc)) != 0;
        if (zero) {
            return hasHost ? ClusterType.ZERO_ALLOC : ClusterType.ZERO_PLAIN;
        }
        if (alloc) {
            return ClusterType.NORMAL;
        }
        return hasHost ? ClusterType.UNALLOCATED_ALLOC : ClusterType.UNALLOCATED_PLAIN;
    }

    static void checkL1(long entry) {
        if ((entry & L1_RESERVED) != 0) {
            throw new InvalidImageException("L1 entry 0x" + Long.toHexString(entry) + " has reserved bits set");
        }
    }
}
