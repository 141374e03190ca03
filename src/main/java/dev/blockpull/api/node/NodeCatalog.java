package dev.blockpull.api.node;

import dev.blockpull.api.Paging;
import dev.blockpull.format.ChainExtent;
import dev.blockpull.format.Extent;
import dev.blockpull.format.ExtentKind;
import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.CopyOnReadFilter;
import dev.blockpull.graph.Driver;
import dev.blockpull.graph.FaultFilterDefinition;
import dev.blockpull.graph.FaultInjectionFilter;
import dev.blockpull.graph.Link;
import dev.blockpull.graph.NodeDefinition;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.ops.BlockpullProperties;
import dev.blockpull.ops.state.StateRecorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Service;

/**
 * The use-cases behind {@code /nodes}: translate requests into graph definitions, call the graph,
 * and turn nodes into views. Rules live in the graph; this class only maps.
 */
@Service
class NodeCatalog {

    private static final String BLKDEBUG = "blkdebug";

    private final NodeGraph graph;
    private final Duration maxDrainWait;
    private final boolean faultInjection;
    private final StateRecorder recorder;

    NodeCatalog(NodeGraph graph, BlockpullProperties properties, StateRecorder recorder) {
        this.graph = graph;
        this.maxDrainWait = properties.graph().maxDrainWait();
        this.faultInjection = properties.debug().faultInjection();
        this.recorder = recorder;
    }

    NodeView open(OpenNodeRequest request) {
        if (BLKDEBUG.equals(request.driver())) {
            return view(graph.open(faultFilter(request)));
        }
        NodeDefinition definition = definition(request);
        NodeView opened = view(graph.open(definition));
        recorder.nodeOpened(definition);
        return opened;
    }

    // ------------------------------------------------------------------ blkdebug rules

    List<InjectedErrorView> injectedErrors(String name) {
        return faultFilter(name).rules().stream().map(InjectedErrorView::of).toList();
    }

    InjectedErrorView injectError(String name, InjectErrorRequest request) {
        return InjectedErrorView.of(faultFilter(name).addRule(request.toRule()));
    }

    void removeInjectedError(String name, long id) {
        if (!faultFilter(name).removeRule(id)) {
            throw new BlockException(
                    BlockErrorKind.NOT_FOUND,
                    "Node '" + name + "' has no injected error " + id
                            + " (a rule with once=true removes itself when it fires)");
        }
    }

    private FaultInjectionFilter faultFilter(String name) {
        requireFaultInjection();
        if (graph.get(name) instanceof FaultInjectionFilter f) {
            return f;
        }
        throw new BlockException(
                BlockErrorKind.INVALID_ARGUMENT,
                "Node '" + name + "' is not a blkdebug filter; only blkdebug nodes have injected errors");
    }

    private void requireFaultInjection() {
        if (!faultInjection) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "Driver 'blkdebug' (fault injection) is off; "
                            + "start the service with blockpull.debug.fault-injection=true to use it");
        }
    }

    Paging.Page<NodeView> list(int pageSize, @Nullable String pageToken) {
        Paging.Page<BlockNode> page = Paging.page(graph.nodes(), BlockNode::name, pageSize, pageToken);
        return new Paging.Page<>(page.items().stream().map(this::view).toList(), page.nextPageToken());
    }

    NodeView get(String name) {
        return view(graph.get(name));
    }

    List<NodeView> chain(String name) {
        return BackingChain.chain(graph.get(name)).stream().map(this::view).toList();
    }

    List<MapEntryView> map(String name, long offset, @Nullable Long length) {
        BlockNode node = graph.get(name);
        if (offset < 0 || (length != null && length < 0)) {
            throw new BlockException(BlockErrorKind.INVALID_ARGUMENT, "offset and length must not be negative");
        }
        if (node.driver() == Driver.FILE) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT, "Node '" + name + "' is a protocol node; map its format node");
        }
        long len = length != null ? length : Math.max(0, node.length() - offset);
        List<MapEntryView> out = new ArrayList<>();
        for (ChainExtent e : BackingChain.map(node, offset, len)) {
            out.add(new MapEntryView(
                    e.offset(),
                    e.length(),
                    e.depth(),
                    e.kind().isAllocated(),
                    e.kind() != ExtentKind.DATA,
                    e.kind() == ExtentKind.DATA,
                    e.hostOffset() == Extent.NO_HOST_OFFSET ? null : e.hostOffset()));
        }
        return out;
    }

    void delete(String name) {
        String file = graph.find(name).map(graph::filename).orElse(null);
        graph.close(name, maxDrainWait);
        recorder.nodeClosed(name, file);
    }

    NodeView snapshot(String name, SnapshotRequest request) {
        NodeView overlay = view(graph.snapshot(name, request.snapshotFile(), request.snapshotNodeName(), maxDrainWait));
        recorder.snapshotTaken(
                name, Objects.requireNonNullElse(overlay.filename(), request.snapshotFile()), overlay.nodeName());
        return overlay;
    }

    // ------------------------------------------------------------------ mapping

    private NodeDefinition definition(OpenNodeRequest r) {
        FileRequest f = r.file();
        if (f == null) {
            throw new BlockException(BlockErrorKind.INVALID_ARGUMENT, "Driver '" + r.driver() + "' needs 'file'");
        }
        if (r.image() != null || r.injectErrors() != null) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "'image' and 'injectErrors' belong to driver 'blkdebug'; a " + r.driver()
                            + " node takes 'file' and 'backing'");
        }
        if (!"file".equals(f.driver())) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "Unknown protocol driver '" + f.driver() + "'; only 'file' is supported");
        }
        BackingRequest b = r.backing();
        NodeDefinition.BackingDefinition backing;
        if (b == null) {
            backing = new NodeDefinition.FromHeader();
        } else if (b instanceof BackingRequest.None) {
            backing = new NodeDefinition.NoBacking();
        } else if (b instanceof BackingRequest.Reference ref) {
            backing = new NodeDefinition.Existing(ref.nodeName());
        } else {
            OpenNodeRequest nested = ((BackingRequest.Nested) b).definition();
            backing = BLKDEBUG.equals(nested.driver())
                    ? new NodeDefinition.FaultFilter(faultFilter(nested))
                    : new NodeDefinition.Nested(definition(nested));
        }
        return new NodeDefinition(
                r.nodeName(),
                Driver.parseFormat(r.driver()),
                new NodeDefinition.FileDefinition(f.filename(), f.readOnly()),
                backing,
                Boolean.TRUE.equals(r.readOnly()));
    }

    private FaultFilterDefinition faultFilter(OpenNodeRequest r) {
        requireFaultInjection();
        if (r.file() != null || r.backing() != null || r.readOnly() != null) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "Driver 'blkdebug' takes 'image' and "
                            + "'injectErrors', not 'file', 'backing' or 'readOnly' (put those on the image's definition)");
        }
        BackingRequest image = r.image();
        NodeDefinition.BackingDefinition child;
        if (image instanceof BackingRequest.Reference ref) {
            child = new NodeDefinition.Existing(ref.nodeName());
        } else if (image instanceof BackingRequest.Nested n
                && !BLKDEBUG.equals(n.definition().driver())) {
            child = new NodeDefinition.Nested(definition(n.definition()));
        } else {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "Driver 'blkdebug' needs 'image': the name of an opened node or a qcow2/raw node definition");
        }
        List<InjectErrorRequest> rules = r.injectErrors() == null ? List.of() : r.injectErrors();
        return new FaultFilterDefinition(
                r.nodeName(),
                child,
                rules.stream().map(InjectErrorRequest::toRule).toList());
    }

    NodeView view(BlockNode n) {
        Link backing = n.backingLink();
        BlockNode backingNode = backing == null ? null : backing.child();
        Link fileLink = n.isFilter() ? n.filteredLink() : n.fileLink();
        BlockNode fileNode = fileLink == null ? null : fileLink.child();
        Link next = n.isFilter() ? n.filteredLink() : backing;
        BlockNode bottom = n instanceof CopyOnReadFilter cor ? cor.bottom() : null;
        return new NodeView(
                n.name(),
                n.driver().id(),
                graph.filename(n),
                n.length(),
                n.isReadOnly(),
                backingNode == null ? null : backingNode.name(),
                fileNode == null ? null : fileNode.name(),
                n.isImplicit(),
                n.requests().inFlight(),
                next != null && next.isFrozen(),
                graph.usedBy(n),
                bottom == null ? null : bottom.name());
    }
}
