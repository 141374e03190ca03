package dev.blockpull.format.qcow2;

/**
 * Where the fields of the qcow2 header lie in cluster 0 (qcow2-notes §2.1): byte offsets of the
 * big-endian fields, the header lengths QEMU writes, and the limits of the backing names.
 */
final class HeaderLayout {

    static final int QCOW2_MAGIC = 0x514649FB;

    static final int MAGIC = 0;
    static final int VERSION = 4;
    static final int BACKING_FILE_OFFSET = 8;
    static final int BACKING_FILE_SIZE = 16;
    static final int CLUSTER_BITS = 20;
    static final int SIZE = 24;
    static final int CRYPT_METHOD = 32;
    static final int L1_SIZE = 36;
    static final int L1_TABLE_OFFSET = 40;
    /** Followed by the u32 refcount_table_clusters at 56: one 12-byte write switches the table. */
    static final int REFCOUNT_TABLE_OFFSET = 48;

    static final int REFCOUNT_TABLE_CLUSTERS = 56;
    static final int NB_SNAPSHOTS = 60;
    static final int SNAPSHOTS_OFFSET = 64;
    /** The version 3 fields. */
    static final int INCOMPATIBLE_FEATURES = 72;

    static final int COMPATIBLE_FEATURES = 80;
    static final int AUTOCLEAR_FEATURES = 88;
    static final int REFCOUNT_ORDER = 96;
    static final int HEADER_LENGTH = 100;
    static final int COMPRESSION_TYPE = 104;

    static final int V2_HEADER_LENGTH = 72;
    static final int V3_MIN_HEADER_LENGTH = 104;
    /** QEMU 7.x writes v3 headers of this length (compression type byte plus padding). */
    static final int V3_HEADER_LENGTH = 112;

    static final int MAX_BACKING_NAME = 1023;
    static final int MAX_BACKING_FORMAT = 15;

    private HeaderLayout() {}
}
