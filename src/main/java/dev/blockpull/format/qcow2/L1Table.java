package dev.blockpull.format.qcow2;

import dev.blockpull.io.InvalidImageException;
import java.nio.ByteBuffer;
import java.util.BitSet;

/** The active L1 table, held whole in memory (at most 32 MiB, validated at open). */
final class L1Table {

    private final long offset;
    private final long[] entries;
    private final BitSet dirty = new BitSet();

    private L1Table(long offset, long[] entries) {
        this.offset = offset;
        this.entries = entries;
    }

    static L1Table load(MetadataIo io, Qcow2Header header) {
        int size = header.l1Size();
        long[] entries = new long[size];
        if (size > 0) {
            ByteBuffer raw = ByteBuffer.wrap(io.readFully(header.l1TableOffset(), size * 8, "L1 table"));
            int clusterMask = header.clusterSize() - 1;
            for (int i = 0; i < size; i++) {
                long e = raw.getLong(i * 8);
                L2Entry.checkL1(e);
                long l2 = L2Entry.hostOffset(e);
                if ((l2 & clusterMask) != 0) {
                    throw new InvalidImageException(
                            "L2 table offset 0x" + Long.toHexString(l2) + " is not cluster aligned");
                }
                if (l2 != 0 && l2 + header.clusterSize() > io.length()) {
                    throw new InvalidImageException(
                            "L2 table at 0x" + Long.toHexString(l2) + " lies beyond the end of the file");
                }
                entries[i] = e;
            }
        }
        return new L1Table(header.l1TableOffset(), entries);
    }

    int size() {
        return entries.length;
    }

    long get(int index) {
        return index < entries.length ? entries[index] : 0;
    }

    void set(int index, long entry) {
        entries[index] = entry;
        dirty.set(index);
    }

    boolean isDirty() {
        return !dirty.isEmpty();
    }

    /** Writes changed entries, a 512-byte aligned slice at a time. */
    void writeDirty(MetadataIo io) {
        for (int i = dirty.nextSetBit(0); i >= 0; i = dirty.nextSetBit(i + 1)) {
            int first = i & ~63;
            int last = Math.min(entries.length, first + 64);
            ByteBuffer buf = ByteBuffer.allocate((last - first) * 8);
            for (int k = first; k < last; k++) {
                buf.putLong(entries[k]);
            }
            io.write(buf.flip(), offset + first * 8L);
            i = last - 1;
        }
        dirty.clear();
    }

    long offset() {
        return offset;
    }

    long[] entries() {
        return entries;
    }
}
