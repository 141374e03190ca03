package dev.blockpull.stream;

import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.BlockOp;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.graph.NodeNotFoundException;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.DataRoot;
import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The argument checks of QMP's block-stream, steps 1–9 of stream-semantics §2.1, in QEMU's order
 * and with QEMU's texts (qmp_block_stream). They only look: nothing in the graph changes.
 */
final class StreamChecks {

    private final NodeGraph graph;

    StreamChecks(NodeGraph graph) {
        this.graph = graph;
    }

    StreamPlan check(StreamRequest r, boolean backingMaskProtocol) {
        if (r.base() != null && r.baseNode() != null) {
            throw invalid("'base' and 'base-node' cannot be specified at the same time");
        }
        if (r.base() != null && r.bottom() != null) {
            throw invalid("'base' and 'bottom' cannot be specified at the same time");
        }
        if (r.bottom() != null && r.baseNode() != null) {
            throw invalid("'bottom' and 'base-node' cannot be specified at the same time");
        }
        String deviceName = Objects.requireNonNull(r.device(), "device");
        BlockNode device = graph.find(deviceName)
                .orElseThrow(() -> new NodeNotFoundException(
                        deviceName, "Cannot find device='" + deviceName + "' nor node-name='" + deviceName + "'"));

        BlockNode base = null;
        if (r.base() != null) {
            base = findBackingImage(device, r.base());
            if (base == null) {
                throw invalid("Can't find '" + r.base() + "' in the backing chain");
            }
        }
        if (r.baseNode() != null) {
            base = lookup(r.baseNode());
            if (base == device || !BackingChain.contains(device, base)) {
                throw invalid("Node '" + r.baseNode() + "' is not a backing image of '" + deviceName + "'");
            }
        }
        BlockNode bottom = null;
        if (r.bottom() != null) {
            bottom = lookup(r.bottom());
            if (bottom.isClosed()) {
                throw invalid("Node '" + r.bottom() + "' is not open");
            }
            if (bottom.isFilter()) {
                throw invalid("Node '" + r.bottom() + "' is a filter, use a non-filter node as 'bottom'");
            }
            if (!BackingChain.contains(device, bottom)) {
                throw invalid("Node '" + r.bottom() + "' is not in a chain starting from '" + deviceName + "'");
            }
        }

        // Busy check: down the chain, stopping before base (with bottom: after bottom).
        BlockNode end = bottom != null ? BackingChain.next(bottom) : base;
        for (BlockNode n = device; n != null && n != end; n = BackingChain.next(n)) {
            n.checkNotBlocked(BlockOp.STREAM);
        }

        if (base == null && r.backingFile() != null) {
            throw invalid("backing file specified, but streaming the entire chain");
        }
        if (r.backingFile() != null) {
            checkBackingString(device, r.backingFile());
        }
        String jobId = r.jobId() != null ? r.jobId() : deviceName;
        return new StreamPlan(r, device, base, bottom, jobId, backingMaskProtocol);
    }

    /**
     * QEMU writes the string verbatim; here it must pass the same data-root check as the backing
     * strings read from images, resolved the same way (from the top image's directory), or the
     * next open of the top would be refused, or worse, a later reader would follow it outside.
     */
    private void checkBackingString(BlockNode device, String backingFile) {
        Path top = BackingChain.skipFilters(device).path();
        DataRoot root = graph.dataRoot();
        // without a file of its own, the string would be taken relative to the root's top level
        root.resolveBacking(top != null ? top : root.root().resolve("image"), backingFile);
    }

    /** QEMU's bdrv_lookup_bs(NULL, name): only node names, and the empty device name in the text. */
    private BlockNode lookup(String name) {
        return graph.find(name)
                .orElseThrow(
                        () -> new NodeNotFoundException(name, "Cannot find device='' nor node-name='" + name + "'"));
    }

    /**
     * QEMU's bdrv_find_backing_image: the first data layer below {@code device} whose file is
     * {@code name}, either as a name relative to the data root (the API's way of naming files) or
     * resolved like a backing-file string, relative to the directory of the layer above it.
     */
    private @Nullable BlockNode findBackingImage(BlockNode device, String name) {
        DataRoot root = graph.dataRoot();
        Path byRoot = resolveQuietly(() -> root.resolve(name));
        BlockNode above = BackingChain.skipFilters(device);
        for (BlockNode n = BackingChain.chainNext(device); n != null; n = BackingChain.chainNext(n)) {
            Path p = n.path();
            if (p != null) {
                Path abovePath = above.path();
                Path byBacking = abovePath == null ? null : resolveQuietly(() -> root.resolveBacking(abovePath, name));
                Path norm = p.toAbsolutePath().normalize();
                if (name.equals(graph.filename(n)) || norm.equals(byRoot) || norm.equals(byBacking)) {
                    return n;
                }
            }
            above = n;
        }
        return null;
    }

    private static @Nullable Path resolveQuietly(java.util.function.Supplier<Path> resolver) {
        try {
            return resolver.get().toAbsolutePath().normalize();
        } catch (BlockException e) {
            return null; // a name the root refuses names no layer
        }
    }

    private static BlockException invalid(String message) {
        return new BlockException(BlockErrorKind.INVALID_ARGUMENT, message);
    }
}
