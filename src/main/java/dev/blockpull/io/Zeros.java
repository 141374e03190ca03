package dev.blockpull.io;

import java.nio.ByteBuffer;

/**
 * Zero-filling and zero-detection of buffers in bulk: both compare or copy against one shared
 * read-only block of zeros (through a view per thread), so the JDK's vectorized mismatch and bulk copy do the work.
 */
public final class Zeros {

    private static final int BLOCK = 1 << 20;
    private static final ByteBuffer ZERO = ByteBuffer.allocateDirect(BLOCK).asReadOnlyBuffer();
    private static final ThreadLocal<ByteBuffer> ZERO_VIEW = ThreadLocal.withInitial(ZERO::duplicate);

    private Zeros() {}

    /** Fills the remaining bytes of {@code dst} with zeros, advancing its position to its limit. */
    public static void fill(ByteBuffer dst) {
        if (!dst.hasRemaining()) {
            return;
        }
        ByteBuffer zero = ZERO_VIEW.get();
        while (dst.hasRemaining()) {
            dst.put(zero.clear().limit(Math.min(dst.remaining(), BLOCK)));
        }
    }

    /**
     * Whether {@code [from, to)} of {@code buf} (absolute indexes) holds only zero bytes. It
     * compares through {@code buf}'s own position and limit (put back before it returns) and a
     * per-thread view of the zeros, so the check, which runs per cluster on copy paths, allocates
     * nothing.
     */
    public static boolean isZero(ByteBuffer buf, int from, int to) {
        int position = buf.position();
        int limit = buf.limit();
        ByteBuffer zero = ZERO_VIEW.get();
        try {
            for (int pos = from; pos < to; pos += BLOCK) {
                int n = Math.min(BLOCK, to - pos);
                buf.limit(pos + n).position(pos);
                if (buf.mismatch(zero.clear().limit(n)) != -1) {
                    return false;
                }
            }
            return true;
        } finally {
            buf.limit(limit).position(position);
        }
    }
}
