package dev.blockpull.api.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.blockpull.format.BackingReference;
import dev.blockpull.format.CreateOptions;
import dev.blockpull.format.ImageCreator;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.graph.Driver;
import dev.blockpull.graph.GraphSettings;
import dev.blockpull.graph.NodeDefinition;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.io.DataRoot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /images/info} asks the graph first: an image a node has open is read from that node,
 * not from a second open of a file its writer may be changing. To tell the two apart, the tests
 * change the size in the header on disk behind the node's back: the node still knows the size it
 * opened.
 */
class ImageInfoReaderTests {

    static final long MiB = 1024 * 1024;
    /** Offset of the virtual size in a qcow2 header. */
    static final long SIZE_FIELD = 24;

    @TempDir
    Path dir;

    DataRoot root;
    NodeGraph graph;
    ImageInfoReader reader;

    @BeforeEach
    void setUp() {
        root = new DataRoot(dir);
        graph = new NodeGraph(
                root, (image, ref) -> root.resolveBacking(image, ref.fileName()), new GraphSettings(16, false));
        reader = new ImageInfoReader(root, graph);
        ImageCreator.create(dir.resolve("base.qcow2"), CreateOptions.qcow2(MiB, null));
        ImageCreator.create(
                dir.resolve("top.qcow2"),
                CreateOptions.qcow2(MiB, new BackingReference("base.qcow2", ImageFormat.QCOW2)));
    }

    @AfterEach
    void tearDown() {
        graph.close();
    }

    void open(String name, Driver driver, String file) {
        graph.open(new NodeDefinition(
                name, driver, new NodeDefinition.FileDefinition(file, false), new NodeDefinition.FromHeader(), false));
    }

    void writeSizeOnDisk(String file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(dir.resolve(file), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).putLong(0, size), SIZE_FIELD);
        }
    }

    @Test
    void anImageNoNodeHasOpenIsReadFromItsFile() throws IOException {
        writeSizeOnDisk("top.qcow2", 2 * MiB);

        assertThat(reader.chain(dir.resolve("top.qcow2"), ImageFormat.QCOW2, 1))
                .extracting(ImageLayerView::filename, ImageLayerView::virtualSize)
                .containsExactly(tuple("top.qcow2", 2 * MiB), tuple("base.qcow2", MiB));
    }

    @Test
    void anImageANodeHasOpenIsReadFromTheNode() throws IOException {
        open("top", Driver.QCOW2, "top.qcow2");
        writeSizeOnDisk("top.qcow2", 2 * MiB);
        writeSizeOnDisk("base.qcow2", 2 * MiB);

        assertThat(reader.chain(dir.resolve("top.qcow2"), ImageFormat.QCOW2, 1))
                .extracting(ImageLayerView::virtualSize)
                .containsExactly(MiB, MiB);
    }

    @Test
    void aNodeThatReadsTheFileAsAnotherFormatIsNotAsked() throws IOException {
        open("rawview", Driver.RAW, "base.qcow2");
        writeSizeOnDisk("base.qcow2", 2 * MiB);

        assertThat(reader.layerView(dir.resolve("base.qcow2"), ImageFormat.QCOW2))
                .extracting(ImageLayerView::format, ImageLayerView::virtualSize)
                .containsExactly("qcow2", 2 * MiB);
    }

    @Test
    void aClosedNodeIsNotAskedAnyMore() throws IOException {
        open("top", Driver.QCOW2, "top.qcow2");
        graph.close("top", null);
        writeSizeOnDisk("top.qcow2", 2 * MiB);

        assertThat(reader.layerView(dir.resolve("top.qcow2"), ImageFormat.QCOW2).virtualSize())
                .isEqualTo(2 * MiB);
    }
}
