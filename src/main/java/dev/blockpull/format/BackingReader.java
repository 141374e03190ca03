package dev.blockpull.format;

import java.nio.ByteBuffer;

/**
 * The guest-visible content below an image, as the image needs it for copy-on-write of partially
 * written clusters. Reads past the end of the backing content must yield zeros.
 */
@FunctionalInterface
public interface BackingReader {

    /** Zeros everywhere: an image without backing. */
    BackingReader ZEROS = (offset, dst) -> {
        while (dst.hasRemaining()) {
            dst.put((byte) 0);
        }
    };

    /** Fills {@code dst.remaining()} bytes of guest content starting at {@code offset}. */
    void read(long offset, ByteBuffer dst);
}
