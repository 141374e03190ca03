package dev.blockpull.graph;

import dev.blockpull.format.Image;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;
import dev.blockpull.io.DataRoot;
import java.nio.file.Path;

/**
 * How the graph opens image files: {@link ImageOpener} normally. Tests put a fault-injecting
 * wrapper with an I/O gate under the images through it.
 */
@FunctionalInterface
public interface ImageFileOpener {

    /** Opens the path as the kernel resolves it: for tests with images the test made itself. */
    ImageFileOpener DEFAULT = ImageOpener::open;

    /** Opens beneath {@code root} only, in one step with the resolution (no check-then-open race). */
    static ImageFileOpener confined(DataRoot root) {
        return (path, format, readOnly, direct) -> ImageOpener.open(path, format, readOnly, direct, root.files());
    }

    Image open(Path path, ImageFormat format, boolean readOnly, boolean direct);
}
