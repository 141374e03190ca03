package dev.blockpull.format;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.FileOpener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The one policy for opening backing chains, for every opener of them ({@link ImageChain}, the
 * graph's nodes, {@code /images/info}): a backing-file string is turned into a file only by the
 * {@link BackingResolver} (which refuses names outside the data root), a chain has at most
 * {@code maxDepth} layers, no file appears twice in one chain, and a missing backing file is an
 * invalid image. {@code names} says how messages name files (relative to the data root in the
 * service).
 */
public final class ChainOpening {

    private final BackingResolver resolver;
    private final int maxDepth;
    private final Function<Path, String> names;

    public ChainOpening(BackingResolver resolver, int maxDepth, Function<Path, String> names) {
        this.resolver = resolver;
        this.maxDepth = maxDepth;
        this.names = names;
    }

    public int maxDepth() {
        return maxDepth;
    }

    /** @throws BlockException INVALID_ARGUMENT when a chain of {@code layers} layers is too deep */
    public void checkDepth(int layers, String chainOf) {
        if (layers > maxDepth) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "Backing chain of '" + chainOf + "' is deeper than the limit of " + maxDepth
                            + " images (blockpull.graph.max-chain-depth)");
        }
    }

    /** A new walk down one chain (or one tree of definitions): it remembers the files it entered. */
    public Walk walk(FileOpener files) {
        return new Walk(files);
    }

    /** The file's dev/inode, looked up through {@code files} like the open, so a swap cannot name another file. */
    public static Object fileIdentity(Path path, FileOpener files) {
        try {
            Object key = files.attributes(path).fileKey();
            return key != null ? key : path.toAbsolutePath().normalize();
        } catch (IOException | BlockException e) {
            return path.toAbsolutePath().normalize();
        }
    }

    /** Opens one backing layer and answers the backing file its header names (null: the bottom). */
    @FunctionalInterface
    public interface LayerOpener {
        @Nullable
        BackingReference open(Path path, ImageFormat format);
    }

    /** The files of one chain opened so far. */
    public final class Walk {

        private final FileOpener files;
        private final Set<Object> seen = new HashSet<>();

        private Walk(FileOpener files) {
            this.files = files;
        }

        /** Enters the top of a chain, layer {@code layer} of it (a new image over an existing chain: 2). */
        public void enterTop(Path top, int layer) {
            checkDepth(layer, names.apply(top));
            enter(top);
        }

        /** Enters one more file. @throws BlockException INVALID_ARGUMENT when the walk has entered it already: a loop */
        public void enter(Path path) {
            if (!seen.add(fileIdentity(path, files))) {
                throw new BlockException(
                        BlockErrorKind.INVALID_ARGUMENT,
                        "Backing file '" + names.apply(path) + "' creates an infinite loop in the chain");
            }
        }

        /**
         * Follows the backing files named in the headers down from {@code top}, layer
         * {@code layer} of its chain, whose header names {@code backing}: each one is
         * resolved, checked against the depth limit, found, entered into this walk, probed when the
         * header records no format, and opened by {@code opener}.
         */
        public void followBacking(Path top, @Nullable BackingReference backing, int layer, LayerOpener opener) {
            Path above = top;
            BackingReference ref = backing;
            for (int depth = layer + 1; ref != null; depth++) {
                Path path = resolver.resolve(above, ref);
                checkDepth(depth, names.apply(top));
                if (!Files.isRegularFile(path)) {
                    throw new BlockException(
                            BlockErrorKind.INVALID_IMAGE,
                            "Could not open backing file '"
                                    + ref.fileName() + "' of '" + names.apply(above) + "': no such image (backing "
                                    + "file names are relative to the directory of the image naming them)");
                }
                enter(path);
                ImageFormat format = ref.format() != null ? ref.format() : ImageOpener.probe(path, files);
                ref = opener.open(path, format);
                above = path;
            }
        }
    }
}
