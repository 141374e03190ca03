package dev.blockpull.io;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * A {@link BlockFile} on a {@link FileChannel}, optionally with O_DIRECT (see {@link DirectIo}).
 * Files grow sparsely: writing past the end of file or growing it with {@link #truncate} leaves
 * a hole, never preallocated blocks.
 *
 * <p>{@link FileChannel} is an interruptible channel: interrupting a thread while it does I/O
 * here closes the file for every user. Stop I/O threads by other means than interrupts.
 */
public final class FileChannelBlockFile implements BlockFile {

    private final Path path;
    private final FileChannel channel;
    private final boolean readOnly;
    /** Present iff O_DIRECT is in effect. */
    private final @Nullable DirectIo directIo;
    /** Serialises length changes among themselves. */
    private final Lock lengthLock;

    private FileChannelBlockFile(Path path, FileChannel channel, boolean readOnly, @Nullable DirectIo directIo) {
        this.path = path;
        this.channel = channel;
        this.readOnly = readOnly;
        this.directIo = directIo;
        this.lengthLock = directIo != null ? directIo.exclusive() : new ReentrantLock();
    }

    /**
     * Opens an existing file. With {@code direct}, O_DIRECT is used if the file system accepts it;
     * where it is refused (EINVAL, e.g. procfs or an old tmpfs) the file gets normal buffered I/O,
     * which {@link #isDirect()} then reports.
     */
    public static FileChannelBlockFile open(Path path, boolean readOnly, boolean direct) throws IOException {
        return open(path, readOnly, direct, FileOpener.PLAIN);
    }

    /** {@link #open(Path, boolean, boolean)} through {@code opener}, e.g. the data root's confined one. */
    public static FileChannelBlockFile open(Path path, boolean readOnly, boolean direct, FileOpener opener)
            throws IOException {
        Set<OpenOption> options = new HashSet<>(List.of(StandardOpenOption.READ));
        if (!readOnly) {
            options.add(StandardOpenOption.WRITE);
        }
        if (direct) {
            FileChannelBlockFile file = tryOpenDirect(path, readOnly, options, opener);
            if (file != null) {
                return file;
            }
        }
        return new FileChannelBlockFile(path, opener.open(path, options), readOnly, null);
    }

    /**
     * Creates a new, empty file, opened read-write with buffered I/O.
     *
     * @throws BlockException kind {@link BlockErrorKind#CONFLICT} if the file exists; it is left untouched
     */
    public static FileChannelBlockFile create(Path path) throws IOException {
        try {
            FileChannel channel = FileChannel.open(path,
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
            return new FileChannelBlockFile(path, channel, false, null);
        } catch (FileAlreadyExistsException e) {
            throw new BlockException(BlockErrorKind.CONFLICT,
                    "File '" + path + "' already exists; choose another name or delete the file first", e);
        }
    }

    /** {@link #create(Path)} through {@code opener}, which also makes missing directories above the file. */
    public static FileChannelBlockFile create(Path path, FileOpener opener) throws IOException {
        try {
            return new FileChannelBlockFile(path, opener.create(path), false, null);
        } catch (FileAlreadyExistsException e) {
            throw new BlockException(BlockErrorKind.CONFLICT,
                    "File '" + path + "' already exists; choose another name or delete the file first", e);
        }
    }

    /** Whether O_DIRECT is really in effect (false after a fallback to buffered I/O). */
    public boolean isDirect() {
        return directIo != null;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        checkOffset(position);
        if (directIo != null) {
            return directIo.read(dst, position);
        }
        int total = 0;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    @Override
    public void write(ByteBuffer src, long position) throws IOException {
        checkWritable("write to");
        checkOffset(position);
        if (directIo != null) {
            directIo.write(src, position);
            return;
        }
        long pos = position;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
    }

    @Override
    public void force(boolean metadata) throws IOException {
        channel.force(metadata);
    }

    @Override
    public long size() throws IOException {
        return directIo != null ? directIo.size() : channel.size();
    }

    @Override
    public void truncate(long size) throws IOException {
        checkWritable("truncate");
        checkOffset(size);
        lengthLock.lock();
        try {
            long current = channel.size();
            if (size < current) {
                channel.truncate(size);
            } else if (size > current) {
                grow(size);
            }
        } finally {
            lengthLock.unlock();
        }
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "FileChannelBlockFile[" + path + (readOnly ? ", read-only" : "") + (isDirect() ? ", direct" : "") + "]";
    }

    /**
     * FileChannel.truncate never grows a file, and writing a byte at the new end would allocate a
     * block. Mapping a byte past the end makes the JDK grow the file with ftruncate on this very
     * descriptor, sparsely. A second open by path would not do: the name may have been swapped
     * for a symlink since this file was opened, and the growth would land wherever it points.
     * The one-page mapping is never touched and goes with the buffer.
     */
    private void grow(long size) throws IOException {
        channel.map(FileChannel.MapMode.READ_WRITE, size - 1, 1);
    }

    private void checkWritable(String verb) {
        if (readOnly) {
            throw new BlockException(BlockErrorKind.READ_ONLY,
                    "Cannot " + verb + " '" + path + "': it is opened read-only");
        }
    }

    private static void checkOffset(long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("Negative file offset " + offset);
        }
    }

    /** The file opened with O_DIRECT, or null when the file system refuses O_DIRECT. */
    private static @Nullable FileChannelBlockFile tryOpenDirect(Path path, boolean readOnly, Set<OpenOption> options,
                                                                FileOpener opener) throws IOException {
        Set<OpenOption> directOptions = new HashSet<>(options);
        directOptions.add(ExtendedOpenOption.DIRECT);
        FileChannel channel;
        try {
            channel = opener.open(path, directOptions);
        } catch (FileSystemException e) {
            if (isDirectRefused(e)) {
                return null;
            }
            throw e;
        } catch (UnsupportedOperationException e) {
            return null; // no O_DIRECT on this platform at all
        }
        try {
            int align = blockSize(path);
            if (align > BufferPool.ALIGNMENT) {
                channel.close();
                return null; // the pool's buffers could not satisfy it: buffered I/O, as for a refusal
            }
            return new FileChannelBlockFile(path, channel, readOnly, new DirectIo(channel, align));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static int blockSize(Path path) throws IOException {
        long size = Files.getFileStore(path).getBlockSize();
        if (size <= 0 || Long.bitCount(size) != 1) {
            throw new IOException("Unusable block size " + size + " for O_DIRECT on '" + path + "'");
        }
        return (int) Math.min(size, Integer.MAX_VALUE);
    }

    /** EINVAL from open(2) with O_DIRECT: the file system does not support it. */
    static boolean isDirectRefused(FileSystemException e) {
        return "Invalid argument".equals(e.getReason());
    }
}
