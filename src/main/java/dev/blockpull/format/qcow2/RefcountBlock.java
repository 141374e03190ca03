package dev.blockpull.format.qcow2;

/**
 * One refcount block in memory: {@code cluster_size * 8 / width} entries of 1 to 64 bits.
 * Sub-byte widths pack entries from the least significant bit (qcow2-notes §6.1).
 */
final class RefcountBlock {

    private final long offset;
    private final byte[] bytes;
    private final int order;
    private boolean dirty;

    RefcountBlock(long offset, byte[] bytes, int order) {
        this.offset = offset;
        this.bytes = bytes;
        this.order = order;
    }

    long offset() {
        return offset;
    }

    byte[] bytes() {
        return bytes;
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

    int entries() {
        return (int) ((long) bytes.length * 8 >>> order);
    }

    /** The entry as an unsigned value; 64-bit refcounts above {@link Long#MAX_VALUE} read as negative. */
    long get(int index) {
        int width = 1 << order;
        if (width >= 8) {
            int bytesPer = width / 8;
            long v = 0;
            int base = index * bytesPer;
            for (int i = 0; i < bytesPer; i++) {
                v = (v << 8) | (bytes[base + i] & 0xFF);
            }
            return v;
        }
        int perByte = 8 / width;
        int shift = (index % perByte) * width;
        return (bytes[index / perByte] >>> shift) & ((1 << width) - 1);
    }

    void set(int index, long value) {
        int width = 1 << order;
        if (width >= 8) {
            int bytesPer = width / 8;
            int base = index * bytesPer;
            for (int i = bytesPer - 1; i >= 0; i--) {
                bytes[base + i] = (byte) value;
                value >>>= 8;
            }
        } else {
            int perByte = 8 / width;
            int shift = (index % perByte) * width;
            int mask = ((1 << width) - 1) << shift;
            int b = bytes[index / perByte] & ~mask;
            bytes[index / perByte] = (byte) (b | (((int) value << shift) & mask));
        }
        dirty = true;
    }
}
