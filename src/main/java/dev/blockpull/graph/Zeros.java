package dev.blockpull.graph;

import java.nio.ByteBuffer;

/** Zero-filling and zero-detection of buffers, eight bytes at a time. */
final class Zeros {

    private Zeros() {
    }

    static void fill(ByteBuffer dst) {
        while (dst.remaining() >= 8) {
            dst.putLong(0);
        }
        while (dst.hasRemaining()) {
            dst.put((byte) 0);
        }
    }

    /** Whether {@code [from, to)} of {@code buf} holds only zero bytes. */
    static boolean isZero(ByteBuffer buf, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            if (buf.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < to; i++) {
            if (buf.get(i) != 0) {
                return false;
            }
        }
        return true;
    }
}
