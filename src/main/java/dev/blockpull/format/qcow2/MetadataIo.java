package dev.blockpull.format.qcow2;

import dev.blockpull.io.BlockFile;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.InvalidImageException;
import dev.blockpull.io.ReadHint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Metadata-sized I/O on the image file, turning {@link IOException} into {@link BlockIoException}
 * and keeping track of the file's length (which grows as clusters are written).
 */
final class MetadataIo {

    private final BlockFile file;
    private final AtomicLong length;

    MetadataIo(BlockFile file) {
        this.file = file;
        try {
            this.length = new AtomicLong(file.size());
        } catch (IOException e) {
            throw new BlockIoException("Could not read the size of " + file.path(), e);
        }
    }

    BlockFile file() {
        return file;
    }

    long length() {
        return length.get();
    }

    /** Reads exactly {@code bytes.length} bytes that must lie inside the file. */
    byte[] readFully(long offset, int size, String what) {
        if (offset < 0 || offset + size > length.get()) {
            throw new InvalidImageException(
                    what + " at offset 0x" + Long.toHexString(offset) + " lies beyond the end of the file");
        }
        ByteBuffer buf = ByteBuffer.allocate(size);
        read(buf, offset);
        if (buf.hasRemaining()) {
            throw new InvalidImageException(what + " at offset 0x" + Long.toHexString(offset) + " is truncated");
        }
        return buf.array();
    }

    /** Reads what the file holds; the part past the end of file is left unread. */
    int read(ByteBuffer dst, long offset) {
        return read(dst, offset, ReadHint.CACHED);
    }

    int read(ByteBuffer dst, long offset, ReadHint hint) {
        try {
            return file.read(dst, offset, hint);
        } catch (IOException e) {
            throw new BlockIoException("Read of " + file.path() + " at " + offset + " failed: " + e.getMessage(), e);
        }
    }

    void write(ByteBuffer src, long offset) {
        long end = offset + src.remaining();
        try {
            file.write(src, offset);
        } catch (IOException e) {
            throw new BlockIoException("Write to " + file.path() + " at " + offset + " failed: " + e.getMessage(), e);
        }
        length.accumulateAndGet(end, Math::max);
    }

    void write(byte[] bytes, long offset) {
        write(ByteBuffer.wrap(bytes), offset);
    }

    void writeLong(long value, long offset) {
        write(ByteBuffer.allocate(8).putLong(0, value), offset);
    }

    void force() {
        try {
            file.force(false);
        } catch (IOException e) {
            throw new BlockIoException("Flush of " + file.path() + " failed: " + e.getMessage(), e);
        }
    }
}
