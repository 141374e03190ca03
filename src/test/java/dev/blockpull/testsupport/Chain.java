package dev.blockpull.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * A backing chain built by {@link Chains}: its files, top first, and the expected guest content
 * of every layer's view (the layer with everything below it), computed in memory from the
 * writes that were planted. The files hold exactly what qemu-io wrote; nothing is open.
 */
public final class Chain {

    /**
     * One file of the chain.
     *
     * @param name        file name inside the chain's directory
     * @param format      {@code qcow2} or {@code raw}
     * @param size        guest size in bytes
     * @param clusterSize qcow2 cluster size (raw: 512)
     * @param compat      {@code 1.1} or {@code 0.10}; null for raw
     */
    public record Layer(
            String name,
            Path path,
            String format,
            long size,
            int clusterSize,
            @Nullable String compat) {}

    private final Path dir;
    private final List<Layer> layers;
    private final List<byte[]> views;

    Chain(Path dir, List<Layer> layersTopFirst, List<byte[]> viewsTopFirst) {
        this.dir = dir;
        this.layers = List.copyOf(layersTopFirst);
        this.views = List.copyOf(viewsTopFirst);
    }

    public Path dir() {
        return dir;
    }

    /** Top first, as {@code qemu-img map} counts depth. */
    public List<Layer> layers() {
        return layers;
    }

    /** Top first. */
    public List<Path> paths() {
        return layers.stream().map(Layer::path).toList();
    }

    public Path top() {
        return layers.get(0).path();
    }

    public Path base() {
        return layers.get(layers.size() - 1).path();
    }

    /** The file named {@code name} (e.g. {@code "mid.qcow2"}). */
    public Path path(String name) {
        return layer(name).path();
    }

    public Layer layer(String name) {
        return layers.stream()
                .filter(l -> l.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new NoSuchElementException("no layer " + name + " in " + layers));
    }

    /** Index in {@link #layers()}: the depth qemu-img map reports for data from that layer. */
    public int depthOf(String name) {
        return layers.indexOf(layer(name));
    }

    /** Expected guest content of the top (a fresh copy, {@code top size} bytes). */
    public byte[] expected() {
        return views.get(0).clone();
    }

    /** Expected guest content seen through {@code name} and the layers below it (a fresh copy). */
    public byte[] expected(String name) {
        return views.get(depthOf(name)).clone();
    }

    /**
     * Copies the top next to itself (same directory, so relative backing names still resolve):
     * the "before" image to compare a job's result with (qcow2-notes §10.3).
     */
    public Path copyOfTop(String name) {
        Path copy = dir.resolve(name);
        try {
            return Files.copy(top(), copy, StandardCopyOption.COPY_ATTRIBUTES);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return "Chain"
                + layers.stream()
                        .map(l -> l.name() + "(" + l.format() + ", " + l.size() + " B, cluster " + l.clusterSize()
                                + (l.compat() == null ? "" : ", compat " + l.compat()) + ")")
                        .toList();
    }
}
