package dev.blockpull.graph;

import dev.blockpull.io.DataRoot;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/** A graph over a test's data root, with gated images; helpers to open nodes and read them whole. */
final class GraphFixture implements AutoCloseable {

    final DataRoot root;
    final GatedImages images = new GatedImages();
    final NodeGraph graph;

    GraphFixture(Path dataRoot) {
        this(dataRoot, 16);
    }

    GraphFixture(Path dataRoot, int maxChainDepth) {
        this.root = new DataRoot(dataRoot);
        this.graph = new NodeGraph(
                root,
                (image, ref) -> root.resolveBacking(image, ref.fileName()),
                new GraphSettings(maxChainDepth, false),
                images);
    }

    /** Opens {@code file} (relative to the root) as {@code name} with its header chain. */
    FormatNode open(String name, String file) {
        return open(name, file, new NodeDefinition.FromHeader());
    }

    FormatNode open(String name, String file, NodeDefinition.BackingDefinition backing) {
        Driver driver = file.endsWith(".raw") ? Driver.RAW : Driver.QCOW2;
        return graph.open(
                new NodeDefinition(name, driver, new NodeDefinition.FileDefinition(file, false), backing, false));
    }

    static NodeDefinition definition(@Nullable String name, String file, NodeDefinition.BackingDefinition backing) {
        Driver driver = file.endsWith(".raw") ? Driver.RAW : Driver.QCOW2;
        return new NodeDefinition(name, driver, new NodeDefinition.FileDefinition(file, false), backing, false);
    }

    static byte[] readAll(BlockNode node) {
        ByteBuffer buf = ByteBuffer.allocate((int) node.length());
        node.read(0, buf);
        return buf.array();
    }

    String relative(Path p) {
        return root.relativize(p);
    }

    @Override
    public void close() {
        graph.close();
    }
}
