package dev.blockpull.graph;

import dev.blockpull.format.BackingReference;
import dev.blockpull.format.BackingResolver;
import dev.blockpull.format.Image;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.DataRoot;
import org.jspecify.annotations.Nullable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Opens one {@link NodeDefinition} with everything below it, all-or-nothing. Every name is checked
 * and every user-given file name resolved inside the data root before anything is opened; every
 * backing-file string found in an image is resolved (and refused if it leads outside the root)
 * before its file is opened. Chains deeper than the limit and loops are refused. On any failure
 * the images opened so far are closed and nothing is registered. Runs under the graph lock.
 */
final class NodeOpener {

    private final NodeGraph graph;
    private final DataRoot root;
    private final BackingResolver resolver;
    private final GraphSettings settings;
    private final List<BlockNode> created = new ArrayList<>();
    private final Set<String> namesTaken = new HashSet<>();

    NodeOpener(NodeGraph graph, DataRoot root, BackingResolver resolver, GraphSettings settings) {
        this.graph = graph;
        this.root = root;
        this.resolver = resolver;
        this.settings = settings;
    }

    /** The top node; {@link #created()} lists every new node (links set, not yet registered). */
    FormatNode open(NodeDefinition top) {
        requireName(top.nodeName());
        prepare(new NodeDefinition.Nested(top));
        return closingOnFailure(() -> openNode(top, 1, new HashSet<>()));
    }

    /** A fault-injection filter and the image below it, like {@link #open(NodeDefinition)}. */
    FaultInjectionFilter open(FaultFilterDefinition top) {
        requireName(top.nodeName());
        prepare(new NodeDefinition.FaultFilter(top));
        return closingOnFailure(() -> openFaultFilter(top, 1, new HashSet<>()));
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
                graph.find(e.nodeName()).orElseThrow(() -> new NodeNotFoundException(e.nodeName(),
                        "Cannot find device='' nor node-name='" + e.nodeName() + "'"));
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
            NodeName.check(name);
            if (graph.find(name).isPresent() || !namesTaken.add(name)) {
                throw duplicate(name);
            }
        }
    }

    private void checkFormatNode(NodeDefinition d) {
        checkName(d.nodeName());
        if (d.driver().kind() != NodeKind.FORMAT) {
            throw invalid("Driver '" + d.driver().id() + "' cannot be opened here; use qcow2 or raw");
        }
        if (d.driver() == Driver.RAW && !(d.backing() instanceof NodeDefinition.FromHeader
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

    private FormatNode openNode(NodeDefinition def, int depth, Set<Object> chainFiles) {
        checkDepth(depth, def.file().filename());
        Path path = root.resolve(def.file().filename());
        ImageFormat format = def.driver().format();
        boolean readOnly = def.readOnly() || def.file().readOnly();
        FormatNode node = openImage(def.nodeName(), path, format, readOnly, def.file().readOnly(), chainFiles);
        NodeDefinition.BackingDefinition backing = def.backing();
        if (backing instanceof NodeDefinition.FromHeader) {
            openHeaderChain(node, depth, chainFiles);
        } else if (backing instanceof NodeDefinition.Existing e) {
            BlockNode existing = graph.get(e.nodeName());
            checkDepth(depth + layers(existing), e.nodeName());
            link(node, existing);
        } else if (backing instanceof NodeDefinition.Nested n) {
            link(node, openNode(n.definition(), depth + 1, chainFiles));
        } else if (backing instanceof NodeDefinition.FaultFilter f) {
            link(node, openFaultFilter(f.definition(), depth + 1, chainFiles));
        }
        return node;
    }

    /** A filter adds no layer: {@code depth} is that of the image below it. */
    private FaultInjectionFilter openFaultFilter(FaultFilterDefinition def, int depth, Set<Object> chainFiles) {
        BlockNode image;
        if (def.image() instanceof NodeDefinition.Existing e) {
            image = graph.get(e.nodeName());
            checkDepth(depth - 1 + layers(image), e.nodeName());
        } else {
            image = openNode(((NodeDefinition.Nested) def.image()).definition(), depth, chainFiles);
        }
        String name = def.nodeName();
        FaultInjectionFilter filter = new FaultInjectionFilter(name != null ? name : graph.generateName(), image,
                def.rules(), graph.drains(), name != null);
        created.add(filter);
        synchronized (image.parents) {
            image.parents.add(filter.filteredLink());
        }
        return filter;
    }

    /** The backing files named in the headers, below {@code top}, read-only, with generated names. */
    private void openHeaderChain(FormatNode top, int topDepth, Set<Object> chainFiles) {
        FormatNode node = top;
        int depth = topDepth;
        while (node.format() == ImageFormat.QCOW2) {
            BackingReference ref = node.headerBacking().orElse(null);
            if (ref == null) {
                return;
            }
            depth++;
            Path backingPath = resolver.resolve(node.path(), ref);
            checkDepth(depth, root.relativize(top.path()));
            if (!Files.isRegularFile(backingPath)) {
                throw new BlockException(BlockErrorKind.INVALID_IMAGE, "Could not open backing file '"
                        + ref.fileName() + "' of '" + root.relativize(node.path()) + "': no such image (backing "
                        + "file names are relative to the directory of the image naming them)");
            }
            ImageFormat format = ref.format() != null ? ref.format() : ImageOpener.probe(backingPath, root.files());
            FormatNode below = openImage(null, backingPath, format, true, false, chainFiles);
            link(node, below);
            node = below;
        }
    }

    private FormatNode openImage(@Nullable String name, Path path, ImageFormat format, boolean readOnly,
                                 boolean storageReadOnly, Set<Object> chainFiles) {
        String relative = root.relativize(path);
        if (!Files.isRegularFile(path)) {
            throw new BlockException(BlockErrorKind.NOT_FOUND, "Could not open '" + relative
                    + "': No such file or directory");
        }
        Object key = identity(root, path);
        if (!chainFiles.add(key)) {
            throw invalid("Backing file '" + relative + "' creates an infinite loop in the chain");
        }
        graph.checkNotOpenElsewhere(key, relative, readOnly);
        long fileSize;
        try {
            fileSize = root.files().attributes(path).size();
        } catch (IOException e) {
            throw new BlockException(BlockErrorKind.IO_ERROR, "Could not open '" + relative + "': " + e.getMessage(), e);
        }
        Image image = graph.opener().open(path, format, readOnly, settings.directIo());
        ProtocolNode file;
        FormatNode node;
        try {
            file = new ProtocolNode(graph.generateName(), path, storageReadOnly, fileSize, graph.drains());
            node = new FormatNode(name != null ? name : graph.generateName(), image, file, settings.directIo(),
                    graph.opener(), graph.drains(), name != null);
        } catch (RuntimeException e) {
            image.close();
            throw e;
        }
        graph.fileKeys().put(node, key);
        created.add(node);
        created.add(file);
        synchronized (file.parents) {
            file.parents.add(node.fileLink());
        }
        return node;
    }

    private void link(FormatNode parent, BlockNode child) {
        Link l = java.util.Objects.requireNonNull(parent.backingLink());
        l.setChild(child);
        synchronized (child.parents) {
            child.parents.add(l);
        }
    }

    private void checkDepth(int depth, String what) {
        if (depth > settings.maxChainDepth()) {
            throw invalid("Backing chain of '" + what + "' is deeper than the limit of " + settings.maxChainDepth()
                    + " images (blockpull.graph.max-chain-depth)");
        }
    }

    /** Data-bearing layers in the chain of {@code n}, n included. */
    private static int layers(BlockNode n) {
        int count = 0;
        for (BlockNode p = BackingChain.skipFilters(n); p != null; p = BackingChain.chainNext(p)) {
            count++;
        }
        return count;
    }

    /** The file's dev/inode, looked up beneath the root like the open, so a swap cannot name a file outside. */
    static Object identity(DataRoot root, Path path) {
        try {
            Object key = root.files().attributes(path).fileKey();
            return key != null ? key : path.toAbsolutePath().normalize();
        } catch (IOException | BlockException e) {
            return path.toAbsolutePath().normalize();
        }
    }

    private void closeCreated(RuntimeException cause) {
        for (int i = created.size() - 1; i >= 0; i--) {
            BlockNode n = created.get(i);
            graph.fileKeys().remove(n);
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
                    synchronized (c.parents) {
                        c.parents.remove(l);
                    }
                }
            }
        }
        created.clear();
    }

    static BlockException duplicate(String name) {
        return new BlockException(BlockErrorKind.CONFLICT, "Duplicate nodes with node-name='" + name + "'");
    }

    private static BlockException invalid(String message) {
        return new BlockException(BlockErrorKind.INVALID_ARGUMENT, message);
    }
}
