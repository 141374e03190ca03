package dev.blockpull.api.image;

import dev.blockpull.format.BackingReference;
import dev.blockpull.format.ChainOpening;
import dev.blockpull.format.Image;
import dev.blockpull.format.ImageDetails;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.DataRoot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;

/**
 * Reads images as {@code qemu-img info --backing-chain} shows them, under the graph's chain-opening
 * policy. An image the graph has open (in the same format) is read from its node, between graph
 * changes, so that a header another writer is rewriting never gives a torn answer and the file is
 * not opened a second time; any other image is opened read-only for the moment of the read.
 */
@Component
class ImageInfoReader {

    private final DataRoot root;
    private final NodeGraph graph;

    ImageInfoReader(DataRoot root, NodeGraph graph) {
        this.root = root;
        this.graph = graph;
    }

    /**
     * {@code top} and its whole backing chain, top first; {@code topLayer} is the top's place in
     * the chain (2 for the backing file of an image about to be created). A missing file below the
     * top is a broken image, not an unknown one: invalid (400), so that 404 keeps meaning "no such
     * image".
     */
    List<ImageLayerView> chain(Path top, ImageFormat format, int topLayer) {
        List<ImageLayerView> layers = new ArrayList<>();
        try {
            ChainOpening.Walk walk = graph.chainOpening().walk(root.files());
            walk.enterTop(top, topLayer);
            Layer first = layer(top, format);
            layers.add(first.view());
            walk.followBacking(top, first.backing(), topLayer, (path, fmt) -> {
                Layer below = layer(path, fmt);
                layers.add(below.view());
                return below.backing();
            });
        } catch (BlockException e) {
            if (e.kind() == BlockErrorKind.NOT_FOUND) {
                throw new BlockException(
                        BlockErrorKind.INVALID_IMAGE,
                        "The backing chain of '" + root.relativize(top) + "' is broken: " + e.getMessage(),
                        e);
            }
            throw e;
        }
        return layers;
    }

    /** One image: from the node that has it open, else from the file. */
    ImageLayerView layerView(Path path, ImageFormat format) {
        return layer(path, format).view();
    }

    private Layer layer(Path path, ImageFormat format) {
        Optional<Layer> fromNode =
                graph.openNodeOf(path).filter(n -> n.format() == format).flatMap(n -> n.inspect(this::layer));
        if (fromNode.isPresent()) {
            return fromNode.get();
        }
        try (Image image = ImageOpener.open(path, format, true, false, root.files())) {
            return layer(image);
        }
    }

    private Layer layer(Image image) {
        ImageDetails details = image.details();
        BackingReference backing = image.backing().orElse(null);
        return new Layer(
                new ImageLayerView(
                        root.relativize(image.path()),
                        image.format().id(),
                        image.virtualSize(),
                        details.actualSize(),
                        image.clusterSize(),
                        backing == null ? null : backing.fileName(),
                        backing == null || backing.format() == null
                                ? null
                                : backing.format().id(),
                        details.dirty(),
                        details.corrupt(),
                        details.compat(),
                        image.format() == ImageFormat.RAW ? null : details.refcountBits(),
                        details.lazyRefcounts(),
                        details.compressionType(),
                        details.extendedL2()),
                backing);
    }

    /** A layer's view and the backing file its header names, to walk on. */
    private record Layer(ImageLayerView view, @Nullable BackingReference backing) {}
}
