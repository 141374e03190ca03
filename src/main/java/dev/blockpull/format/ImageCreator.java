package dev.blockpull.format;

import dev.blockpull.format.qcow2.Qcow2Creator;
import dev.blockpull.format.raw.RawImage;
import dev.blockpull.io.BlockFile;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.FileChannelBlockFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Creates new image files, as {@code qemu-img create} does. */
public final class ImageCreator {

    private ImageCreator() {
    }

    /**
     * Creates {@code path} (which must not exist: {@code CONFLICT} otherwise, and the existing
     * file is left untouched) with the given options. The result passes {@code qemu-img check}.
     * A failed creation removes the partial file.
     */
    public static void create(Path path, CreateOptions options) {
        BlockFile file;
        try {
            file = FileChannelBlockFile.create(path);
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
        } catch (IOException e) {
            throw new BlockIoException("Could not create '" + path + "': " + e.getMessage(), e);
        } finally {
            if (!done) {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException ignored) {
                    // the original error is the one worth reporting
                }
            }
        }
    }
}
