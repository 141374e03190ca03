package dev.blockpull.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;

/**
 * Turns a path into an open file. The data root's opener ({@link DataRoot#files()}) resolves and
 * opens in one step, so that what was checked is what gets opened; {@link #PLAIN} opens the path
 * as the kernel resolves it, for files the caller trusts (tests, tools outside the data root).
 */
public interface FileOpener {

    /** Opens an existing file with {@code options} (READ, WRITE, O_DIRECT; never CREATE). */
    FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException;

    /**
     * Creates a new file for reading and writing, and any missing directories above it.
     *
     * @throws java.nio.file.FileAlreadyExistsException if anything exists under that name; it is left untouched
     */
    FileChannel create(Path path) throws IOException;

    /** Removes the file (or link) named {@code path}, never what a link points to; false if there was none. */
    boolean deleteIfExists(Path path) throws IOException;

    /** The attributes (size, file key) of the file {@code path} names, resolved as {@link #open} resolves it. */
    BasicFileAttributes attributes(Path path) throws IOException;

    FileOpener PLAIN = new FileOpener() {
        @Override
        public FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException {
            return FileChannel.open(path, options);
        }

        @Override
        public FileChannel create(Path path) throws IOException {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            return FileChannel.open(
                    path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }

        @Override
        public boolean deleteIfExists(Path path) throws IOException {
            return Files.deleteIfExists(path);
        }

        @Override
        public BasicFileAttributes attributes(Path path) throws IOException {
            return Files.readAttributes(path, BasicFileAttributes.class);
        }
    };
}
