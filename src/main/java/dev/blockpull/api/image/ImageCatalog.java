package dev.blockpull.api.image;

import dev.blockpull.api.Paging;
import dev.blockpull.format.BackingReference;
import dev.blockpull.format.CreateOptions;
import dev.blockpull.format.ImageCreator;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.DataRoot;
import dev.blockpull.ops.BlockpullProperties;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * The image use-cases behind {@code /images}: create like {@code qemu-img create}, list the data
 * root, show a backing chain like {@code qemu-img info --backing-chain} (read by
 * {@link ImageInfoReader}, which asks the graph first). Every file name goes
 * through the {@link DataRoot} first, and backing-file strings found in images through it too,
 * so nothing outside the root is opened or created.
 */
@Service
class ImageCatalog {

    private static final Logger log = LoggerFactory.getLogger(ImageCatalog.class);

    /** How deep {@code GET /images} descends below the data root. */
    static final int MAX_WALK_DEPTH = 16;

    private final DataRoot root;
    private final int maxChainDepth;
    private final ImageInfoReader reader;

    ImageCatalog(DataRoot root, ImageInfoReader reader, BlockpullProperties properties) {
        this.root = root;
        this.reader = reader;
        this.maxChainDepth = properties.graph().maxChainDepth();
    }

    ImageInfoView create(CreateImageRequest request) {
        ImageFormat format = ImageFormat.parse(request.format());
        CreateImageOptions.check(format, request);
        Path path = root.resolve(request.filename());
        String name = root.relativize(path);
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new BlockException(
                    BlockErrorKind.CONFLICT,
                    "Image '" + name
                            + "' already exists; choose another filename (existing files are never overwritten)");
        }
        BackingReference backing = null;
        long size;
        if (request.backingFile() != null) {
            Path backingPath = resolveBackingForCreate(path, name, request.backingFile());
            backing = new BackingReference(
                    request.backingFile(),
                    request.backingFormat() != null
                            ? ImageFormat.parse(request.backingFormat())
                            : ImageOpener.probe(backingPath, root.files()));
            long backingSize = backingSize(backingPath, backing);
            size = request.size() != null ? request.size() : backingSize;
        } else if (request.size() != null) {
            size = request.size();
        } else {
            throw invalid("size is required unless backingFile is given (then the backing image's size is taken)");
        }
        CreateOptions options = CreateImageOptions.of(format, size, backing, request);
        // missing directories are made by the creation itself, beneath the root like the file
        ImageCreator.create(path, options, root.files());
        log.info(
                "Created image {} ({}, {} bytes{})",
                name,
                format,
                options.size(),
                backing != null ? ", backing " + backing.fileName() : "");
        return info(path, name);
    }

    ImageInfoView info(String filename) {
        Path path = root.resolve(filename);
        String name = root.relativize(path);
        if (!Files.exists(path)) {
            throw new BlockException(BlockErrorKind.NOT_FOUND, "Image '" + name + "' not found under the data root");
        }
        if (!Files.isRegularFile(path)) {
            throw invalid("'" + name + "' is not a regular file");
        }
        return info(path, name);
    }

    Paging.Page<ImageView> list(int pageSize, @Nullable String pageToken) {
        Paging.Page<String> names = Paging.page(imageFileNames(), n -> n, pageSize, pageToken);
        List<ImageView> views = new ArrayList<>(names.items().size());
        for (String name : names.items()) {
            views.add(describe(name));
        }
        return new Paging.Page<>(views, names.nextPageToken());
    }

    private ImageInfoView info(Path path, String name) {
        List<ImageLayerView> layers = reader.chain(path, ImageOpener.probe(path, root.files()), 1);
        ImageLayerView top = layers.get(0);
        return new ImageInfoView(
                name, top.format(), top.virtualSize(), top.actualSize(), top.backingFile(), layers.size(), layers);
    }

    /** One list entry; a file that fails to open is listed with the reason instead. */
    private ImageView describe(String name) {
        Path path = root.root().resolve(name);
        String format = "raw";
        try {
            ImageFormat probed = ImageOpener.probe(path, root.files());
            format = probed.id();
            ImageLayerView image = reader.layerView(path, probed);
            return new ImageView(name, format, image.virtualSize(), image.actualSize(), image.backingFile(), null);
        } catch (BlockException e) {
            return new ImageView(name, format, null, null, null, root.hidePaths(String.valueOf(e.getMessage())));
        } catch (RuntimeException e) {
            log.warn("Listing {}: {}", name, e.toString());
            return new ImageView(
                    name,
                    format,
                    null,
                    null,
                    null,
                    root.hidePaths("Cannot open: "
                            + (e.getMessage() != null
                                    ? e.getMessage()
                                    : e.getClass().getSimpleName())));
        }
    }

    /** Regular files below the root (symbolic links are not followed), sorted by name. */
    private List<String> imageFileNames() {
        Path base = root.root();
        List<String> names = new ArrayList<>();
        try {
            Files.walkFileTree(
                    base,
                    EnumSet.noneOf(java.nio.file.FileVisitOption.class),
                    MAX_WALK_DEPTH,
                    new SimpleFileVisitor<>() {
                        @Override
                        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                            return root.isReserved(dir) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                            if (attrs.isRegularFile()) {
                                names.add(relative(base, file));
                            }
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFileFailed(Path file, IOException e) {
                            log.debug("Skipping {} while listing images: {}", file, e.toString());
                            return FileVisitResult.CONTINUE;
                        }
                    });
        } catch (IOException e) {
            throw new BlockIoException("Cannot list the data root: " + e.getMessage(), e);
        }
        names.sort(null);
        return names;
    }

    private static String relative(Path base, Path file) {
        return base.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
    }

    private Path resolveBackingForCreate(Path path, String name, String backingFile) {
        Path backingPath;
        try {
            backingPath = root.resolveBacking(path, backingFile);
        } catch (BlockException e) {
            if (e.kind() == BlockErrorKind.NOT_FOUND) {
                throw missingBacking(name, backingFile);
            }
            throw e;
        }
        if (!Files.isRegularFile(backingPath)) {
            throw missingBacking(name, backingFile);
        }
        return backingPath;
    }

    /** Opens the backing chain as qemu-img create does: it must be valid, and its top gives the size. */
    private long backingSize(Path backingPath, BackingReference backing) {
        if (maxChainDepth < 2) {
            throw invalid(
                    "A backing file would make the chain longer than blockpull.graph.max-chain-depth=" + maxChainDepth);
        }
        return reader.chain(backingPath, backing.format(), 2).get(0).virtualSize();
    }

    private static BlockException missingBacking(String name, String backingFile) {
        return invalid("Could not open backing file '" + backingFile + "': no such image (backing file names are "
                + "relative to the directory of '" + name + "')");
    }

    private static BlockException invalid(String message) {
        return new BlockException(BlockErrorKind.INVALID_ARGUMENT, message);
    }
}
