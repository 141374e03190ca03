package dev.blockpull.nbd;

import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.Driver;
import dev.blockpull.graph.GraphSettings;
import dev.blockpull.graph.NodeDefinition;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.io.BufferPool;
import dev.blockpull.io.DataRoot;
import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** A graph over a test's data root, its export registry and an NBD server on a free loopback port. */
final class NbdFixture implements AutoCloseable {

    final Path root;
    final NodeGraph graph;
    final ExportRegistry exports;
    final NbdServer server;

    NbdFixture(Path dataRoot) {
        this(dataRoot, NbdServerSettings.defaults("127.0.0.1", 0));
    }

    NbdFixture(Path dataRoot, NbdServerSettings settings) {
        this(dataRoot, settings, null);
    }

    /** With {@code tls}, clients must start TLS first. */
    NbdFixture(Path dataRoot, NbdServerSettings settings, @Nullable TlsCredentials tls) {
        this(dataRoot, settings, tls, BufferPool.shared());
    }

    /** A server whose buffers come from {@code pool}. */
    NbdFixture(Path dataRoot, NbdServerSettings settings, @Nullable TlsCredentials tls, BufferPool pool) {
        this.root = dataRoot;
        DataRoot dr = new DataRoot(dataRoot);
        this.graph = new NodeGraph(
                dr, (image, ref) -> dr.resolveBacking(image, ref.fileName()), new GraphSettings(16, false));
        this.exports = new ExportRegistry(graph);
        this.server = new NbdServer(exports, settings, tls, pool);
        server.start();
    }

    /** Opens {@code file} (relative to the root) with the chain its header names. */
    BlockNode open(String name, String file) {
        Driver driver = file.endsWith(".raw") ? Driver.RAW : Driver.QCOW2;
        return graph.open(new NodeDefinition(
                name, driver, new NodeDefinition.FileDefinition(file, false), new NodeDefinition.FromHeader(), false));
    }

    NbdExport export(String id, String node, boolean writable) {
        return exports.add(id, node, writable);
    }

    int port() {
        return server.port();
    }

    String uri(String exportId) {
        return "nbd://127.0.0.1:" + port() + "/" + exportId;
    }

    void unexport(String id) {
        exports.remove(id, Duration.ofSeconds(30));
    }

    @Override
    public void close() {
        server.close();
        exports.close();
        graph.close();
    }
}
