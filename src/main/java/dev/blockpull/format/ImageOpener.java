package dev.blockpull.format;

import dev.blockpull.format.qcow2.Qcow2Image;
import dev.blockpull.format.raw.RawImage;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.BlockFile;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.FileChannelBlockFile;
import dev.blockpull.io.FileOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Opens image files by format; the qcow2 and raw drivers live behind it. */
public final class ImageOpener {

    private static final int QCOW2_MAGIC = 0x514649FB;

    private ImageOpener() {}

    /** Opens {@code path} as {@code format}; a qcow2 header is validated before anything else is read. */
    public static Image open(Path path, ImageFormat format, boolean readOnly) {
        return open(path, format, readOnly, false);
    }

    public static Image open(Path path, ImageFormat format, boolean readOnly, boolean direct) {
        return open(path, format, readOnly, direct, FileOpener.PLAIN);
    }

    /** Opens through {@code opener}: the data root's opener keeps the open beneath the root. */
    public static Image open(Path path, ImageFormat format, boolean readOnly, boolean direct, FileOpener opener) {
        BlockFile file = openFile(path, readOnly, direct, opener);
        return open(file, format);
    }

    /** Opens an already opened file as {@code format}; the image owns the file from then on. */
    public static Image open(BlockFile file, ImageFormat format) {
        try {
            return switch (format) {
                case QCOW2 -> Qcow2Image.open(file);
                case RAW -> RawImage.open(file);
            };
        } catch (RuntimeException e) {
            closeQuietly(file, e);
            throw e;
        }
    }

    /** qcow2 when the file starts with the qcow2 magic, raw otherwise. */
    public static ImageFormat probe(Path path) {
        return probe(path, FileOpener.PLAIN);
    }

    public static ImageFormat probe(Path path, FileOpener opener) {
        try (BlockFile file = openFile(path, true, false, opener)) {
            ByteBuffer magic = ByteBuffer.allocate(4);
            file.read(magic, 0);
            return !magic.hasRemaining() && magic.getInt(0) == QCOW2_MAGIC ? ImageFormat.QCOW2 : ImageFormat.RAW;
        } catch (IOException e) {
            throw new BlockIoException("Could not read " + path + ": " + e.getMessage(), e);
        }
    }

    static BlockFile openFile(Path path, boolean readOnly, boolean direct, FileOpener opener) {
        if (!Files.isRegularFile(path)) {
            throw new BlockException(
                    BlockErrorKind.NOT_FOUND, "Could not open '" + path + "': No such file or not a regular file");
        }
        try {
            return FileChannelBlockFile.open(path, readOnly, direct, opener);
        } catch (NoSuchFileException e) {
            throw new BlockException(BlockErrorKind.NOT_FOUND, "Could not open '" + path + "': No such file", e);
        } catch (IOException e) {
            throw new BlockIoException("Could not open '" + path + "': " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(BlockFile file, RuntimeException cause) {
        try {
            file.close();
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }
}
