package dev.blockpull.format.qcow2;

import java.nio.ByteBuffer;

/**
 * One L2 table in memory. Standard tables hold one u64 per cluster; extended tables hold two
 * (the entry and its subcluster bitmap), interleaved as on disk.
 */
final class L2Table {

    private final long offset;
    private final long[] words;
    private final boolean extended;
    private boolean dirty;

    L2Table(long offset, long[] words, boolean extended) {
        this.offset = offset;
        this.words = words;
        this.extended = extended;
    }

    static L2Table decode(long offset, byte[] bytes, boolean extended) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        long[] words = new long[bytes.length / 8];
        for (int i = 0; i < words.length; i++) {
            words[i] = buf.getLong(i * 8);
        }
        return new L2Table(offset, words, extended);
    }

    static L2Table empty(long offset, int clusterSize, boolean extended) {
        return new L2Table(offset, new long[clusterSize / 8], extended);
    }

    L2Table copyTo(long newOffset) {
        L2Table t = new L2Table(newOffset, words.clone(), extended);
        t.dirty = true;
        return t;
    }

    long offset() {
        return offset;
    }

    long entry(int index) {
        return words[extended ? index * 2 : index];
    }

    long bitmap(int index) {
        return extended ? words[index * 2 + 1] : 0;
    }

    void setEntry(int index, long entry) {
        words[extended ? index * 2 : index] = entry;
        dirty = true;
    }

    boolean isDirty() {
        return dirty;
    }

    void markClean() {
        dirty = false;
    }

    void markDirty() {
        dirty = true;
    }

    byte[] encode() {
        ByteBuffer buf = ByteBuffer.allocate(words.length * 8);
        for (long w : words) {
            buf.putLong(w);
        }
        return buf.array();
    }
}
