package dev.blockpull.graph;

import dev.blockpull.format.Image;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;

import java.nio.file.Path;

/**
 * How the graph opens image files: {@link ImageOpener} normally. Tests put a fault-injecting
 * wrapper with an I/O gate under the images through it.
 */
@FunctionalInterface
public interface ImageFileOpener {

    ImageFileOpener DEFAULT = ImageOpener::open;

    Image open(Path path, ImageFormat format, boolean readOnly, boolean direct);
}
