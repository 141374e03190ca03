package dev.blockpull.format.qcow2;

import dev.blockpull.io.InvalidImageException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Rewrites cluster 0 crash-safely (qcow2-notes §9.2): the caller has made every data and metadata
 * write durable first; the new header is written as one aligned 4 KiB block when all changed
 * bytes lie there (a page write is atomic in practice), otherwise as the whole cluster; then
 * flushed, re-read and re-parsed before success is reported.
 */
final class HeaderWriter {

    private static final int ATOMIC_BLOCK = 4096;

    private final MetadataIo io;

    HeaderWriter(MetadataIo io) {
        this.io = io;
    }

    void rewrite(Qcow2Header next) {
        ByteBuffer after = HeaderEncoder.encode(next);
        ByteBuffer before = ByteBuffer.allocate(after.capacity());
        io.read(before, 0);
        int lastDifference = -1;
        for (int i = after.capacity() - 1; i >= 0; i--) {
            if (before.get(i) != after.get(i)) {
                lastDifference = i;
                break;
            }
        }
        if (lastDifference < 0) {
            return;
        }
        int length = lastDifference < ATOMIC_BLOCK ? Math.min(ATOMIC_BLOCK, after.capacity()) : after.capacity();
        io.write(after.slice(0, length), 0);
        io.force();
        verify(next);
    }

    private void verify(Qcow2Header expected) {
        ByteBuffer buf = ByteBuffer.allocate(expected.clusterSize());
        io.read(buf, 0);
        Qcow2Header reread = HeaderParser.parse(buf.flip(), io.length());
        if (!Objects.equals(reread.backingFile(), expected.backingFile())
                || !Objects.equals(reread.backingFormat(), expected.backingFormat())) {
            throw new InvalidImageException("The rewritten header does not read back as written");
        }
    }
}
