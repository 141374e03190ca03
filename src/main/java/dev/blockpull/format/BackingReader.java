package dev.blockpull.format;

import dev.blockpull.io.Zeros;
import java.nio.ByteBuffer;

/**
 * The guest-visible content below an image, as the image needs it for copy-on-write of partially
 * written clusters. Reads past the end of the backing content must yield zeros.
 */
@FunctionalInterface
public interface BackingReader {

    /** Zeros everywhere: an image without backing. */
    BackingReader ZEROS = (offset, dst) -> Zeros.fill(dst);

    /** Fills {@code dst.remaining()} bytes of guest content starting at {@code offset}. */
    void read(long offset, ByteBuffer dst);
}
