package dev.blockpull.format.qcow2;

/** QEMU's classification of an L2 entry or subcluster ({@code qcow2_get_subcluster_type}). */
enum ClusterType {
    /** Data in a host cluster. */
    NORMAL,
    /** Compressed data. */
    COMPRESSED,
    /** Reads as zero; a host cluster is kept preallocated. */
    ZERO_ALLOC,
    /** Reads as zero; no host cluster. */
    ZERO_PLAIN,
    /** Not allocated here; a host cluster exists (extended L2 only). */
    UNALLOCATED_ALLOC,
    /** Not allocated here: reads fall through to the backing file. */
    UNALLOCATED_PLAIN;

    boolean isZero() {
        return this == ZERO_ALLOC || this == ZERO_PLAIN;
    }

    boolean isAllocated() {
        return this != UNALLOCATED_ALLOC && this != UNALLOCATED_PLAIN;
    }
}
