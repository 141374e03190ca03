package dev.blockpull.io;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * A {@link BlockFile} on a {@link FileChannel}, optionally with O_DIRECT (see {@link DirectIo}).
 * Files grow sparsely: writing past the end of file or growing it with {@link #truncate} leaves
 * a hole, never preallocated blocks. A buffered file serves aligned {@link ReadHint#ONCE} reads
 * through a second, O_DIRECT descriptor opened on first use (where the file system refuses
 * O_DIRECT, through the page cache as usual); the kernel writes dirty cached pages of the range
 * back before such a read, so it sees every completed write.
 *
 * <p>{@link FileChannel} is an interruptible channel: interrupting a thread while it does I/O
 * here closes the file for every user. Stop I/O threads by other means than interrupts.
 */
public final class FileChannelBlockFile implements BlockFile {

    /** How far ahead of an O_DIRECT file's end space is reserved at a time. */
    static final long RESERVE_STEP = 64L << 20;

    private final Path path;
    private final FileChannel channel;
    private final boolean readOnly;
    /** Present iff O_DIRECT is in effect. */
    private final @Nullable DirectIo directIo;
    /** Serialises length changes among themselves. */
    private final Lock lengthLock;
    /** How the file was opened: a second descriptor is opened the same way (confined to the data root). */
    private final FileOpener opener;
    /** The O_DIRECT reader of a buffered file's read-once requests, once opened (or refused). */
    private volatile @Nullable ReadAround readAround;
    /**
     * Space reserved ahead of O_DIRECT writes that grow the file (see {@link FileSpace}); null for
     * buffered or read-only files and where reservation is not available.
     */
    private final @Nullable FileSpace space;
    /** With {@link #space}: whether it still reserves (the file system may refuse). */
    private volatile boolean reserving;
    /** With {@link #space}: the file's length on disk, reserved space included. */
    private volatile long reservedSize;
    /** With {@link #space}: the length the writes and truncations made, which {@link #size} reports. */
    private final AtomicLong writtenSize = new AtomicLong();

    private FileChannelBlockFile(
            Path path, FileChannel channel, boolean readOnly, @Nullable DirectIo directIo, FileOpener opener)
            throws IOException {
        this.path = path;
        this.channel = channel;
        this.readOnly = readOnly;
        this.directIo = directIo;
        this.opener = opener;
        this.lengthLock = directIo != null ? directIo.exclusive() : new ReentrantLock();
        this.space = directIo != null && !readOnly ? FileSpace.of(channel) : null;
        this.reserving = space != null;
        if (space != null) {
            reservedSize = channel.size();
            writtenSize.set(reservedSize);
        }
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
        return new FileChannelBlockFile(path, opener.open(path, options), readOnly, null, opener);
    }

    /**
     * Creates a new, empty file, opened read-write with buffered I/O.
     *
     * @throws BlockException kind {@link BlockErrorKind#CONFLICT} if the file exists; it is left untouched
     */
    public static FileChannelBlockFile create(Path path) throws IOException {
        try {
            FileChannel channel = FileChannel.open(
                    path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
            return new FileChannelBlockFile(path, channel, false, null, FileOpener.PLAIN);
        } catch (FileAlreadyExistsException e) {
            throw new BlockException(
                    BlockErrorKind.CONFLICT,
                    "File '" + path + "' already exists; choose another name or delete the file first",
                    e);
        }
    }

    /** {@link #create(Path)} through {@code opener}, which also makes missing directories above the file. */
    public static FileChannelBlockFile create(Path path, FileOpener opener) throws IOException {
        try {
            return new FileChannelBlockFile(path, opener.create(path), false, null, opener);
        } catch (FileAlreadyExistsException e) {
            throw new BlockException(
                    BlockErrorKind.CONFLICT,
                    "File '" + path + "' already exists; choose another name or delete the file first",
                    e);
        }
    }

    /** Whether O_DIRECT is really in effect (false after a fallback to buffered I/O). */
    public boolean isDirect() {
        return directIo != null;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        checkOffset(position);
        if (space != null) {
            return readWritten(dst, position);
        }
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

    /** A read that ends at the written length, as at the end of the file: the reserve past it is not content. */
    private int readWritten(ByteBuffer dst, long position) throws IOException {
        long written = writtenSize.get();
        if (position >= written) {
            return 0;
        }
        if (dst.remaining() <= written - position) {
            return directIo.read(dst, position);
        }
        int limit = dst.limit();
        dst.limit(dst.position() + (int) (written - position));
        try {
            return directIo.read(dst, position);
        } finally {
            dst.limit(limit);
        }
    }

    @Override
    public int read(ByteBuffer dst, long position, ReadHint hint) throws IOException {
        if (hint == ReadHint.ONCE && directIo == null) {
            DirectIo around = readAround().directIo;
            if (around != null && around.isAligned(dst, position)) {
                checkOffset(position);
                return around.read(dst, position);
            }
        }
        return read(dst, position);
    }

    /**
     * The read-once reader, opened on first use. A refusal is remembered, not retried: O_DIRECT
     * refused by the file system, or a second open that fails (the name gone or no longer
     * readable); the file then serves read-once requests through its own descriptor.
     */
    private ReadAround readAround() {
        ReadAround r = readAround;
        if (r == null) {
            synchronized (this) {
                r = readAround;
                if (r == null) {
                    r = openReadAround();
                    readAround = r;
                }
            }
        }
        return r;
    }

    private ReadAround openReadAround() {
        try {
            FileChannelBlockFile f = tryOpenDirect(path, true, Set.of(StandardOpenOption.READ), opener);
            if (f == null) {
                return ReadAround.REFUSED;
            }
            if (!isSameFile(channel, f.channel)) {
                f.close(); // the name now names another file: never read that one for this one
                return ReadAround.REFUSED;
            }
            return new ReadAround(f.channel, f.directIo);
        } catch (IOException | RuntimeException e) {
            return ReadAround.REFUSED;
        }
    }

    /**
     * Whether two channels are open on the same file. Java gives no fstat of a channel, but file
     * locks are held per file for the whole JVM: a second lock on a region of the same file is
     * refused with {@link OverlappingFileLockException} (see {@link FileChannel#tryLock}). The
     * probe is a shared lock of one byte far past any image's end, held for no longer than the test.
     */
    static boolean isSameFile(FileChannel a, FileChannel b) throws IOException {
        long probe = Long.MAX_VALUE - 1;
        try (FileLock held = a.tryLock(probe, 1, true)) {
            if (held == null) {
                return false; // another process holds the probe byte: unknown, so not the same
            }
            try (FileLock second = b.tryLock(probe, 1, true)) {
                return false;
            } catch (OverlappingFileLockException e) {
                return true;
            }
        }
    }

    /** A second descriptor with O_DIRECT for read-once requests; {@code directIo} null when refused. */
    private record ReadAround(
            @Nullable FileChannel channel, @Nullable DirectIo directIo) {
        static final ReadAround REFUSED = new ReadAround(null, null);
    }

    @Override
    public void write(ByteBuffer src, long position) throws IOException {
        checkWritable("write to");
        checkOffset(position);
        if (directIo != null) {
            long end = position + src.remaining();
            if (space != null) {
                reserveFor(position, end);
            }
            directIo.write(src, position);
            if (space != null) {
                writtenSize.accumulateAndGet(end, Math::max);
            }
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

    /**
     * Reserves space up to the next multiple of {@link #RESERVE_STEP} past {@code end} when a
     * write would grow the file from at most one step beyond its end (a file that grows by
     * appending, as images do; a write far past the end of a sparse file reserves nothing).
     */
    private void reserveFor(long position, long end) {
        if (end <= reservedSize || !reserving || position > reservedSize + RESERVE_STEP) {
            return;
        }
        lengthLock.lock();
        try {
            long reserved = reservedSize;
            if (end <= reserved || !reserving) {
                return;
            }
            long target = (end / RESERVE_STEP + 1) * RESERVE_STEP;
            if (space != null && space.reserve(reserved, target - reserved)) {
                reservedSize = target;
            } else {
                reserving = false;
            }
        } finally {
            lengthLock.unlock();
        }
    }

    @Override
    public long size() throws IOException {
        if (space != null) {
            return writtenSize.get();
        }
        return directIo != null ? directIo.size() : channel.size();
    }

    @Override
    public void truncate(long size) throws IOException {
        checkWritable("truncate");
        checkOffset(size);
        lengthLock.lock();
        try {
            long current = channel.size();
            if (space != null && size >= writtenSize.get() && size <= current) {
                writtenSize.set(size); // inside the reserved space, which reads as zeros
                return;
            }
            if (size < current) {
                channel.truncate(size);
            } else if (size > current) {
                grow(size);
            }
            reservedSize = size;
            writtenSize.set(size);
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

    /** Closes the file; space reserved and not written is given back first. */
    @Override
    public void close() throws IOException {
        ReadAround r = readAround;
        try (FileChannel around = r == null ? null : r.channel();
                FileChannel own = channel) {
            giveBackReserve();
        }
    }

    private void giveBackReserve() throws IOException {
        if (space == null) {
            return;
        }
        lengthLock.lock();
        try {
            reserving = false; // the descriptor's number is not to be used past this point
            long written = writtenSize.get();
            if (channel.isOpen() && channel.size() > written) {
                channel.truncate(written);
            }
        } finally {
            lengthLock.unlock();
        }
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
            throw new BlockException(
                    BlockErrorKind.READ_ONLY, "Cannot " + verb + " '" + path + "': it is opened read-only");
        }
    }

    private static void checkOffset(long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("Negative file offset " + offset);
        }
    }

    /** The file opened with O_DIRECT, or null when the file system refuses O_DIRECT. */
    private static @Nullable FileChannelBlockFile tryOpenDirect(
            Path path, boolean readOnly, Set<OpenOption> options, FileOpener opener) throws IOException {
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
            return new FileChannelBlockFile(path, channel, readOnly, new DirectIo(channel, align), opener);
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
