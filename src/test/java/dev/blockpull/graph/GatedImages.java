package dev.blockpull.graph;

import dev.blockpull.format.Image;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;
import dev.blockpull.io.FaultInjectingBlockFile;
import dev.blockpull.io.FileChannelBlockFile;
import dev.blockpull.io.IoCounters;
import dev.blockpull.io.IoGate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An {@link ImageFileOpener} that puts a {@link FaultInjectingBlockFile} under every image and
 * remembers every path it opened, so tests can hold I/O at a file's gate and prove what was
 * (not) opened.
 */
public final class GatedImages implements ImageFileOpener {

    private final Map<Path, FaultInjectingBlockFile> files = new ConcurrentHashMap<>();
    private final List<Path> opened = new CopyOnWriteArrayList<>();

    @Override
    public Image open(Path path, ImageFormat format, boolean readOnly, boolean direct) {
        try {
            FaultInjectingBlockFile file =
                    new FaultInjectingBlockFile(FileChannelBlockFile.open(path, readOnly, direct));
            opened.add(path);
            files.put(path.toAbsolutePath().normalize(), file);
            return ImageOpener.open(file, format);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The gate of the file opened last at {@code path}. */
    public IoGate gate(Path path) {
        return file(path).gate();
    }

    private FaultInjectingBlockFile file(Path path) {
        FaultInjectingBlockFile f = files.get(path.toAbsolutePath().normalize());
        if (f == null) {
            throw new IllegalStateException(path + " was not opened; opened: " + opened);
        }
        return f;
    }

    /** What reached the file opened last at {@code path}. */
    public IoCounters counters(Path path) {
        return file(path).counters();
    }

    /** Every path opened so far, in order. */
    public List<Path> opened() {
        return List.copyOf(opened);
    }
}
