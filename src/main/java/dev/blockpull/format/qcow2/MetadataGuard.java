package dev.blockpull.format.qcow2;

import dev.blockpull.io.InvalidImageException;
import java.util.HashMap;
import java.util.Map;

/**
 * The set of host clusters that hold metadata (header, refcount table and blocks, L1 and L2
 * tables), so that a hostile image cannot make us write guest data over its own tables
 * (QEMU's {@code qcow2_pre_write_overlap_check}, qcow2-notes §8.4 and §11).
 */
final class MetadataGuard {

    private final int clusterBits;
    private final Map<Long, String> clusters = new HashMap<>();

    MetadataGuard(int clusterBits) {
        this.clusterBits = clusterBits;
    }

    void add(long offset, long bytes, String what) {
        long first = offset >> clusterBits;
        long last = (offset + Math.max(bytes, 1) - 1) >> clusterBits;
        for (long c = first; c <= last; c++) {
            clusters.putIfAbsent(c, what);
        }
    }

    /**
     * Like {@link #add}, but refuses a structure that shares a cluster with one added before: a
     * refcount block lying on the L1 table, say, would have refcount updates written over L1
     * entries (QEMU's overlap check refuses those writes).
     */
    void addExclusive(long offset, long bytes, String what) {
        long first = offset >> clusterBits;
        long last = (offset + Math.max(bytes, 1) - 1) >> clusterBits;
        for (long c = first; c <= last; c++) {
            String other = clusters.get(c);
            if (other != null) {
                throw new InvalidImageException(
                        "Corrupt image: the " + what + " at 0x" + Long.toHexString(offset) + " overlaps the " + other);
            }
        }
        add(offset, bytes, what);
    }

    void remove(long offset, long bytes) {
        long first = offset >> clusterBits;
        long last = (offset + Math.max(bytes, 1) - 1) >> clusterBits;
        for (long c = first; c <= last; c++) {
            clusters.remove(c);
        }
    }

    /** Refuses guest data at {@code hostOffset} when that cluster holds metadata. */
    void checkDataWrite(long hostOffset) {
        String what = clusters.get(hostOffset >> clusterBits);
        if (what != null) {
            throw new InvalidImageException("Corrupt image: a data cluster at 0x" + Long.toHexString(hostOffset)
                    + " overlaps the " + what + "; refusing to write");
        }
    }

    /** Refuses an L2 table that sits on the header, the refcount structures or the L1 table. */
    void checkL2Table(long offset) {
        String what = clusters.get(offset >> clusterBits);
        if (what != null && !what.equals("L2 table")) {
            throw new InvalidImageException(
                    "Corrupt image: L2 table at 0x" + Long.toHexString(offset) + " overlaps the " + what);
        }
    }
}
