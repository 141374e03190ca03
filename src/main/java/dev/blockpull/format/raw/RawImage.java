package dev.blockpull.format.raw;

import dev.blockpull.format.BackingReader;
import dev.blockpull.format.BackingReference;
import dev.blockpull.format.Extent;
import dev.blockpull.format.ExtentKind;
import dev.blockpull.format.Image;
import dev.blockpull.format.ImageDetails;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.BlockFile;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.ReadHint;
import dev.blockpull.io.Zeros;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A raw image: the file is the guest disk. The virtual size is the file length; reads past the
 * end of a short file read as zeros. Every byte is allocated data as far as block status goes.
 */
public final class RawImage implements Image {

    private final BlockFile file;
    private final long size;

    private RawImage(BlockFile file, long size) {
        this.file = file;
        this.size = size;
    }

    public static RawImage open(BlockFile file) {
        try {
            return new RawImage(file, file.size());
        } catch (IOException e) {
            throw new BlockIoException("Could not read the size of " + file.path(), e);
        }
    }

    /** A raw image of {@code size} bytes: a sparse file of that length. */
    public static void create(BlockFile file, long size) {
        if (size < 0) {
            throw new BlockException(BlockErrorKind.INVALID_ARGUMENT, "Image size must not be negative");
        }
        try {
            file.truncate(size);
            file.force(true);
        } catch (IOException e) {
            throw new BlockIoException("Could not create " + file.path() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public ImageFormat format() {
        return ImageFormat.RAW;
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public long virtualSize() {
        return size;
    }

    @Override
    public int clusterSize() {
        return 512;
    }

    @Override
    public boolean isReadOnly() {
        return file.isReadOnly();
    }

    @Override
    public Optional<BackingReference> backing() {
        return Optional.empty();
    }

    @Override
    public ImageDetails details() {
        return new ImageDetails(null, 0, false, false, false, null, false, size);
    }

    @Override
    public List<Extent> blockStatus(long offset, long length) {
        long end = Math.min(size, offset + Math.max(0, length));
        if (offset < 0 || offset >= end) {
            return List.of();
        }
        return List.of(new Extent(offset, end - offset, ExtentKind.DATA, offset));
    }

    @Override
    public void read(long offset, ByteBuffer dst, ReadHint hint) {
        try {
            file.read(dst, offset, hint);
        } catch (IOException e) {
            throw new BlockIoException("Read of " + path() + " at " + offset + " failed: " + e.getMessage(), e);
        }
        Zeros.fill(dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) {
        checkWrite(offset, src.remaining());
        try {
            file.write(src, offset);
        } catch (IOException e) {
            throw new BlockIoException("Write to " + path() + " at " + offset + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) {
        checkWrite(offset, length);
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(zeros.capacity(), length - done);
            write(offset + done, zeros.clear().limit(n));
            done += n;
        }
    }

    @Override
    public void flush() {
        try {
            file.force(false);
        } catch (IOException e) {
            throw new BlockIoException("Flush of " + path() + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void attachBacking(@Nullable BackingReader backing) {
        // raw images have no backing file
    }

    @Override
    public void changeBackingFile(@Nullable BackingReference backing) {
        throw new BlockException(
                BlockErrorKind.INVALID_ARGUMENT,
                "raw images have no header; a backing file cannot be recorded in " + path().getFileName());
    }

    @Override
    public void close() {
        try {
            file.close();
        } catch (IOException e) {
            throw new BlockIoException("Close of " + path() + " failed", e);
        }
    }

    private void checkWrite(long offset, long length) {
        if (isReadOnly()) {
            throw new BlockException(BlockErrorKind.READ_ONLY, "Block node is read-only");
        }
        if (offset < 0 || length < 0 || offset + length > size) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "Write of " + length + " bytes at " + offset + " lies outside the image (" + size + " bytes)");
        }
    }
}
