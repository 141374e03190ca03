package dev.blockpull.stream;

import dev.blockpull.format.Image;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;
import dev.blockpull.graph.ImageFileOpener;
import dev.blockpull.io.FaultInjectingBlockFile;
import dev.blockpull.io.FileChannelBlockFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Opens every image over a {@link FaultInjectingBlockFile}, so a test can inject faults or hold I/O at a file's gate. */
final class FaultyImages implements ImageFileOpener {

    private final Map<Path, FaultInjectingBlockFile> files = new ConcurrentHashMap<>();

    @Override
    public Image open(Path path, ImageFormat format, boolean readOnly, boolean direct) {
        try {
            FaultInjectingBlockFile file =
                    new FaultInjectingBlockFile(FileChannelBlockFile.open(path, readOnly, direct));
            files.put(path.toAbsolutePath().normalize(), file);
            return ImageOpener.open(file, format);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The wrapper of the file opened last at {@code path} (a reopen makes a new one). */
    FaultInjectingBlockFile file(Path path) {
        FaultInjectingBlockFile f = files.get(path.toAbsolutePath().normalize());
        if (f == null) {
            throw new IllegalStateException(path + " was not opened; opened: " + files.keySet());
        }
        return f;
    }
}
