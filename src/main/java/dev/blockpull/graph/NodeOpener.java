package dev.blockpull.graph;

import dev.blockpull.format.ChainOpening;
import dev.blockpull.format.Image;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.DataRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Opens one {@link NodeDefinition} with everything below it, all-or-nothing. Every name is checked
 * and every user-given file name resolved inside the data root before anything is opened; every
 * backing-file string found in an image is resolved (and refused if it leads outside the root)
 * before its file is opened. Chains deeper than the limit and loops are refused, by the one
 * {@link ChainOpening} policy. On any failure the images opened so far are closed and nothing is
 * registered. Runs under the graph lock.
 */
final class NodeOpener {

    private final NodeGraph graph;
    private final DataRoot root;
    private final ChainOpening policy;
    /** One walk for the whole definition tree: a file may appear in it once. */
    private final ChainOpening.Walk walk;

    private final List<BlockNode> created = new ArrayList<>();
    private final Set<String> namesTaken = new HashSet<>();

    NodeOpener(NodeGraph graph) {
        this.graph = graph;
        this.root = graph.dataRoot();
        this.policy = graph.chainOpening();
        this.walk = policy.walk(root.files());
    }

    /** The top node; {@link #created()} lists every new node (links set, not yet registered). */
    FormatNode open(NodeDefinition top) {
        requireName(top.nodeName());
        prepare(new NodeDefinition.Nested(top));
        return closingOnFailure(() -> openNode(top, 1));
    }

    /** A fault-injection filter and the image below it, like {@link #open(NodeDefinition)}. */
    FaultInjectionFilter open(FaultFilterDefinition top) {
        requireName(top.nodeName());
        prepare(new NodeDefinition.FaultFilter(top));
        return closingOnFailure(() -> openFaultFilter(top, 1));
    }

    private <T extends BlockNode> T closingOnFailure(Supplier<T> opening) {
        try {
            return opening.get();
        } catch (RuntimeException e) {
            closeCreated(e);
            throw e;
        }
    }

    List<BlockNode> created() {
        return created;
    }

    // ------------------------------------------------------------------ checks before any I/O

    private static void requireName(@Nullable String name) {
        if (name == null) {
            throw invalid("'nodeName' must be specified for the root node");
        }
    }

    /** Checks every name of the definition tree first, then resolves every file name in it. */
    private void prepare(NodeDefinition.BackingDefinition top) {
        for (NodeDefinition.BackingDefinition d = top; d != null; d = below(d)) {
            if (d instanceof NodeDefinition.Nested n) {
                checkFormatNode(n.definition());
            } else if (d instanceof NodeDefinition.FaultFilter f) {
                checkName(f.definition().nodeName());
            } else if (d instanceof NodeDefinition.Existing e) {
                graph.find(e.nodeName())
                        .orElseThrow(() -> new NodeNotFoundException(
                                e.nodeName(), "Cannot find device='' nor node-name='" + e.nodeName() + "'"));
            }
        }
        for (NodeDefinition.BackingDefinition d = top; d != null; d = below(d)) {
            if (d instanceof NodeDefinition.Nested n) {
                root.resolve(n.definition().file().filename());
            }
        }
    }

    private void checkName(@Nullable String name) {
        if (name != null) {
            graph.registry().checkNewName(name);
            if (!namesTaken.add(name)) {
                throw NodeRegistry.duplicate(name);
            }
        }
    }

    private void checkFormatNode(NodeDefinition d) {
        checkName(d.nodeName());
        if (d.driver().kind() != NodeKind.FORMAT) {
            throw invalid("Driver '" + d.driver().id() + "' cannot be opened here; use qcow2 or raw");
        }
        if (d.driver() == Driver.RAW
                && !(d.backing() instanceof NodeDefinition.FromHeader
                        || d.backing() instanceof NodeDefinition.NoBacking)) {
            throw invalid("Driver 'raw' does not support backing files; give no backing for node '"
                    + (d.nodeName() == null ? d.file().filename() : d.nodeName()) + "'");
        }
    }

    /** The next definition down the tree: a node's backing, a filter's image; null at the bottom. */
    private static NodeDefinition.@Nullable BackingDefinition below(NodeDefinition.BackingDefinition d) {
        if (d instanceof NodeDefinition.Nested n) {
            return n.definition().backing();
        }
        return d instanceof NodeDefinition.FaultFilter f ? f.definition().image() : null;
    }

    // ------------------------------------------------------------------ opening

    private FormatNode openNode(NodeDefinition def, int depth) {
        policy.checkDepth(depth, def.file().filename());
        Path path = root.resolve(def.file().filename());
        requireFile(path);
        walk.enter(path);
        boolean readOnly = def.readOnly() || def.file().readOnly();
        FormatNode node = openImage(
                def.nodeName(),
                path,
                def.driver().format(),
                readOnly,
                def.file().readOnly());
        NodeDefinition.BackingDefinition backing = def.backing();
        if (backing instanceof NodeDefinition.FromHeader) {
            openHeaderChain(node, depth);
        } else if (backing instanceof NodeDefinition.Existing e) {
            BlockNode existing = graph.get(e.nodeName());
            policy.checkDepth(depth + layers(existing), e.nodeName());
            link(node, existing);
        } else if (backing instanceof NodeDefinition.Nested n) {
            link(node, openNode(n.definition(), depth + 1));
        } else if (backing instanceof NodeDefinition.FaultFilter f) {
            link(node, openFaultFilter(f.definition(), depth + 1));
        }
        return node;
    }

    /** A filter adds no layer: {@code depth} is that of the image below it. */
    private FaultInjectionFilter openFaultFilter(FaultFilterDefinition def, int depth) {
        BlockNode image;
        if (def.image() instanceof NodeDefinition.Existing e) {
            image = graph.get(e.nodeName());
            policy.checkDepth(depth - 1 + layers(image), e.nodeName());
        } else {
            image = openNode(((NodeDefinition.Nested) def.image()).definition(), depth);
        }
        String name = def.nodeName();
        FaultInjectionFilter filter = new FaultInjectionFilter(
                name != null ? name : graph.registry().generateName(),
                image,
                def.rules(),
                graph.drains(),
                name != null);
        created.add(filter);
        image.addParent(filter.filteredLink());
        return filter;
    }

    /** The backing files named in the headers, below {@code top}, read-only, with generated names. */
    private void openHeaderChain(FormatNode top, int topDepth) {
        FormatNode[] above = {top};
        walk.followBacking(top.path(), top.headerBacking().orElse(null), topDepth, (path, format) -> {
            FormatNode below = openImage(null, path, format, true, false);
            link(above[0], below);
            above[0] = below;
            return below.headerBacking().orElse(null);
        });
    }

    private void requireFile(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new BlockException(
                    BlockErrorKind.NOT_FOUND,
                    "Could not open '" + root.relativize(path) + "': No such file or directory");
        }
    }

    /** Opens a file the walk has entered, unless another node has it open and either could write. */
    private FormatNode openImage(
            @Nullable String name, Path path, ImageFormat format, boolean readOnly, boolean storageReadOnly) {
        String relative = root.relativize(path);
        Object key = graph.openFiles().identity(path);
        graph.openFiles().checkNotOpenElsewhere(key, relative, readOnly);
        long fileSize;
        try {
            fileSize = root.files().attributes(path).size();
        } catch (IOException e) {
            throw new BlockException(
                    BlockErrorKind.IO_ERROR, "Could not open '" + relative + "': " + e.getMessage(), e);
        }
        Image image =
                graph.opener().open(path, format, readOnly, graph.settings().directIo());
        FormatNode node = graph.newFormatNode(name, path, image, storageReadOnly, fileSize, name != null);
        graph.openFiles().add(node, key);
        created.add(node);
        created.add(node.file());
        return node;
    }

    private static void link(FormatNode parent, BlockNode child) {
        Relink.point(Objects.requireNonNull(parent.backingLink()), child);
    }

    /** Data-bearing layers in the chain of {@code n}, n included. */
    private static int layers(BlockNode n) {
        int count = 0;
        for (BlockNode p = BackingChain.skipFilters(n); p != null; p = BackingChain.chainNext(p)) {
            count++;
        }
        return count;
    }

    private void closeCreated(RuntimeException cause) {
        for (int i = created.size() - 1; i >= 0; i--) {
            BlockNode n = created.get(i);
            graph.openFiles().remove(n);
            try {
                n.closeResources();
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
            }
        }
        // links from new nodes into existing ones must not stay behind
        for (BlockNode n : created) {
            for (Link l : n.children()) {
                BlockNode c = l.child();
                if (c != null && !created.contains(c)) {
                    c.removeParent(l);
                }
            }
        }
        created.clear();
    }

    private static BlockException invalid(String message) {
        return new BlockException(BlockErrorKind.INVALID_ARGUMENT, message);
    }
}
