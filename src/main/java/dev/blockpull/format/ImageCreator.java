package dev.blockpull.format;

import dev.blockpull.format.qcow2.Qcow2Creator;
import dev.blockpull.format.raw.RawImage;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.BlockFile;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.FileChannelBlockFile;
import dev.blockpull.io.FileOpener;
import java.io.IOException;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/** Creates new image files, as {@code qemu-img create} does. */
public final class ImageCreator {

    private ImageCreator() {}

    /**
     * Creates {@code path} (which must not exist: {@code CONFLICT} otherwise, and the existing
     * file is left untouched) with the given options. The result passes {@code qemu-img check}.
     * A failed creation removes the partial file.
     */
    public static void create(Path path, CreateOptions options) {
        create(path, options, null);
    }

    /**
     * {@link #create(Path, CreateOptions)} through {@code opener}, which also makes the missing
     * directories above the file (the data root's opener keeps both beneath the root).
     */
    public static void create(Path path, CreateOptions options, @Nullable FileOpener opener) {
        BlockFile file;
        try {
            file = opener == null ? FileChannelBlockFile.create(path) : FileChannelBlockFile.create(path, opener);
        } catch (IOException e) {
            throw new BlockIoException("Could not create '" + path + "': " + e.getMessage(), e);
        }
        boolean done = false;
        try (file) {
            switch (options.format()) {
                case QCOW2 -> Qcow2Creator.create(file, options);
                case RAW -> RawImage.create(file, options.size());
            }
            done = true;
        } catch (BlockIoException e) {
            throw isFileTooLarge(e) ? tooLarge(path, options, e) : e;
        } catch (IOException e) {
            throw isFileTooLarge(e)
                    ? tooLarge(path, options, e)
                    : new BlockIoException("Could not create '" + path + "': " + e.getMessage(), e);
        } finally {
            if (!done) {
                try {
                    (opener != null ? opener : FileOpener.PLAIN).deleteIfExists(path);
                } catch (IOException ignored) {
                    // the original error is the one worth reporting
                }
            }
        }
    }

    /** EFBIG while sizing a new file: the size asked for is beyond the file system, a bad argument. */
    private static boolean isFileTooLarge(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("File too large")) {
                return true;
            }
        }
        return false;
    }

    private static BlockException tooLarge(Path path, CreateOptions options, Exception cause) {
        return new BlockException(
                BlockErrorKind.INVALID_ARGUMENT,
                "Could not create '" + path + "': size " + options.size() + " is larger than the file system allows",
                cause);
    }
}
