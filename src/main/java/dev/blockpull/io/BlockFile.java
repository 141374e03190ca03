package dev.blockpull.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Positional I/O on one file: what the format drivers need of storage and nothing more.
 * Implementations are safe for concurrent use; reads and writes never move a shared position.
 */
public interface BlockFile extends Closeable {

    /**
     * Reads {@code dst.remaining()} bytes at {@code position}, stopping early only at end of file.
     * Bytes past the end of file are left unread; the caller decides what they mean.
     *
     * @return the number of bytes read (less than requested only at end of file)
     */
    int read(ByteBuffer dst, long position) throws IOException;

    /** {@link #read(ByteBuffer, long)} with a hint; storage that has no use for hints ignores it. */
    default int read(ByteBuffer dst, long position, ReadHint hint) throws IOException {
        return read(dst, position);
    }

    /** Writes all of {@code src} at {@code position}, growing the file when needed. */
    void write(ByteBuffer src, long position) throws IOException;

    /** Makes every completed write durable; {@code metadata} also syncs file metadata (size). */
    void force(boolean metadata) throws IOException;

    long size() throws IOException;

    /** Sets the file length, growing sparsely or cutting. */
    void truncate(long size) throws IOException;

    boolean isReadOnly();

    Path path();

    @Override
    void close() throws IOException;
}
