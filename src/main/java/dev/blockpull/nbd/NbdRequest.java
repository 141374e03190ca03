package dev.blockpull.nbd;

import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/**
 * One transmission-phase request as read off the wire.
 *
 * @param length  unsigned 32-bit length, widened
 * @param payload a WRITE's data (a pooled buffer the request owns until it is answered); null for
 *                other commands, and for a WRITE whose data had no memory (it was read and dropped)
 */
record NbdRequest(
        int flags,
        int type,
        long cookie,
        long offset,
        long length,
        @Nullable ByteBuffer payload) {

    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    String describe() {
        return "cmd " + type + " flags 0x" + Integer.toHexString(flags) + " at " + offset + " length " + length;
    }
}
