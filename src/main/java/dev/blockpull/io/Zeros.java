package dev.blockpull.io;

import java.nio.ByteBuffer;

/**
 * Zero-filling and zero-detection of buffers in bulk: both compare or copy against one shared
 * read-only block of zeros, so the JDK's vectorized mismatch and bulk copy do the work.
 */
public final class Zeros {

    private static final int BLOCK = 1 << 20;
    private static final ByteBuffer ZERO = ByteBuffer.allocateDirect(BLOCK).asReadOnlyBuffer();

    private Zeros() {}

    /** Fills the remaining bytes of {@code dst} with zeros, advancing its position to its limit. */
    public static void fill(ByteBuffer dst) {
        while (dst.hasRemaining()) {
            int n = Math.min(dst.remaining(), BLOCK);
            dst.put(ZERO.slice(0, n));
        }
    }

    /** Whether {@code [from, to)} of {@code buf} (absolute indexes) holds only zero bytes. */
    public static boolean isZero(ByteBuffer buf, int from, int to) {
        for (int pos = from; pos < to; pos += BLOCK) {
            int n = Math.min(BLOCK, to - pos);
            if (buf.slice(pos, n).mismatch(ZERO.slice(0, n)) != -1) {
                return false;
            }
        }
        return true;
    }
}
