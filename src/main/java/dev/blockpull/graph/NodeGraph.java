package dev.blockpull.graph;

import dev.blockpull.format.BackingResolver;
import dev.blockpull.format.ChainOpening;
import dev.blockpull.format.Image;
import dev.blockpull.io.DataRoot;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The block graph: its nodes ({@link NodeRegistry}), which files they hold open
 * ({@link OpenFiles}), opening and closing them, and drains. Structure changes are
 * {@link StructureChanges}' and snapshots {@link ExternalSnapshots}'; this class is their one
 * entrance. Changes run under one graph lock; node I/O never takes it.
 *
 * <p>For the job floor: {@link #drain}, {@link #insertCopyOnReadFilter}, {@link #dropFilter},
 * {@link #setBacking}, {@link #reopen}, {@link #freezeChain}, {@link #attach},
 * {@link DrainCoordinator#register} (via {@link #drains()}), {@link PermissionTable#claim} and
 * {@link BlockNode#block} on the nodes.
 */
public final class NodeGraph implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NodeGraph.class);

    private final DataRoot root;
    private final GraphSettings settings;
    private final ImageFileOpener opener;
    private final ChainOpening chainOpening;
    private final DrainCoordinator drains = new DrainCoordinator();
    private final GraphLock lock = new GraphLock();
    private final NodeRegistry registry = new NodeRegistry();
    private final OpenFiles openFiles;
    private final StructureChanges changes;
    private final ExternalSnapshots snapshots;

    public NodeGraph(DataRoot root, BackingResolver resolver, GraphSettings settings) {
        this(root, resolver, settings, ImageFileOpener.confined(root));
    }

    public NodeGraph(DataRoot root, BackingResolver resolver, GraphSettings settings, ImageFileOpener opener) {
        this.root = root;
        this.settings = settings;
        this.opener = opener;
        this.chainOpening = new ChainOpening(resolver, settings.maxChainDepth(), root::relativize);
        this.openFiles = new OpenFiles(root);
        this.changes = new StructureChanges(this);
        this.snapshots = new ExternalSnapshots(this);
    }

    public DataRoot dataRoot() {
        return root;
    }

    public DrainCoordinator drains() {
        return drains;
    }

    ImageFileOpener opener() {
        return opener;
    }

    GraphSettings settings() {
        return settings;
    }

    /** The policy every chain is opened under, the graph's and {@code /images}'. */
    public ChainOpening chainOpening() {
        return chainOpening;
    }

    GraphLock lock() {
        return lock;
    }

    NodeRegistry registry() {
        return registry;
    }

    OpenFiles openFiles() {
        return openFiles;
    }

    // ------------------------------------------------------------------ lookups

    public Optional<BlockNode> find(String name) {
        return registry.find(name);
    }

    /** @throws NodeNotFoundException with blockdev-del's wording */
    public BlockNode get(String name) {
        return registry.get(name);
    }

    /** Every node, sorted by name (generated {@code #block...} names first). */
    public List<BlockNode> nodes() {
        return registry.sorted();
    }

    /** The relative name of a node's file, or null. */
    public @Nullable String filename(BlockNode node) {
        Path p = node.path();
        return p == null ? null : root.relativize(p);
    }

    /**
     * The format node that has {@code path} open, if any: readers of an open image ask it rather
     * than open the file a second time (a writable one first, whose view is current).
     */
    public Optional<FormatNode> openNodeOf(Path path) {
        return openFiles.nodeOf(path);
    }

    /** Ids of the holders using the node: attachments, permission claims, op blockers. */
    public List<String> usedBy(BlockNode node) {
        Set<String> ids = new LinkedHashSet<>();
        node.attachments().forEach(a -> ids.add(a.holder().id()));
        node.permissions().claims().forEach(c -> ids.add(c.holder().id()));
        node.blockers().forEach(b -> ids.add(b.holder().id()));
        return List.copyOf(ids);
    }

    // ------------------------------------------------------------------ open and close

    /** Opens a node and everything below it (blockdev-add), all-or-nothing. */
    public FormatNode open(NodeDefinition definition) {
        return open(nodeOpener -> nodeOpener.open(definition));
    }

    /** Opens a fault-injection filter and, when defined inline, the image below it, all-or-nothing. */
    public FaultInjectionFilter open(FaultFilterDefinition definition) {
        return open(nodeOpener -> nodeOpener.open(definition));
    }

    private <T extends BlockNode> T open(Function<NodeOpener, T> how) {
        return lock.call(() -> {
            NodeOpener nodeOpener = new NodeOpener(this);
            T top = how.apply(nodeOpener);
            nodeOpener.created().forEach(registry::add);
            log.info(
                    "Opened node {} ({} nodes: {})",
                    top.name(),
                    nodeOpener.created().size(),
                    nodeOpener.created().stream().map(BlockNode::name).toList());
            return top;
        });
    }

    /**
     * A format node over a new file node for {@code image} at {@code path}, linked, not yet
     * registered; the image is closed if that fails. Null {@code name}: a generated one.
     */
    FormatNode newFormatNode(
            @Nullable String name, Path path, Image image, boolean storageReadOnly, long fileSize, boolean userOwned) {
        try {
            ProtocolNode file = new ProtocolNode(registry.generateName(), path, storageReadOnly, fileSize, drains);
            FormatNode node = new FormatNode(
                    name != null ? name : registry.generateName(),
                    image,
                    file,
                    settings.directIo(),
                    opener,
                    drains,
                    userOwned);
            file.addParent(node.fileLink());
            return node;
        } catch (RuntimeException e) {
            image.close();
            throw e;
        }
    }

    /**
     * Closes a user-owned node (blockdev-del) and the implicit nodes below it that nothing else
     * uses, after draining it.
     *
     * @throws NodeBusyException   a holder blocks deletion
     * @throws NodeInUseException  a parent, an attachment or a permission claim still uses it
     */
    public void close(String name, @Nullable Duration maxDrainWait) {
        lock.run(() -> {
            BlockNode node = get(name);
            node.checkNotBlocked(BlockOp.DELETE);
            List<Link> parents = node.parentLinks();
            if (!parents.isEmpty()) {
                Link p = parents.get(0);
                throw new NodeInUseException("Block device " + name + " is in use: it is the "
                        + p.role().linkName() + " child of node '" + p.parent().name() + "'; delete '"
                        + p.parent().name() + "' first");
            }
            List<String> holders = usedBy(node);
            if (!holders.isEmpty()) {
                throw new NodeInUseException("Block device " + name + " is in use by " + String.join(", ", holders));
            }
            if (!node.isUserOwned()) {
                throw new NodeInUseException(
                        "Node " + name + " is not owned by the monitor; it closes with its parent");
            }
            try (DrainedSection ignored = drain(node, null, maxDrainWait)) {
                changes.unregisterAndClose(node);
            }
            log.info("Closed node {}", name);
        });
    }

    /** Closes every node, tops first (service shutdown). */
    @Override
    public void close() {
        lock.run(() -> {
            for (BlockNode n : nodes()) {
                if (n.parentLinks().isEmpty() && !n.isClosed()) {
                    changes.unregisterAndClose(n);
                }
            }
            nodes().forEach(StructureChanges::closeQuietly);
            registry.clear();
        });
    }

    // ------------------------------------------------------------------ drain

    /** Drains {@code node} with its parents and children, waiting without limit. */
    public DrainedSection drain(BlockNode node) {
        return drain(node, null, null);
    }

    /**
     * Drains {@code node}, every node above it (their requests would descend into it) and every
     * node below it: new external requests wait, participants using any of them are paused, and
     * this returns once nothing is in flight there.
     *
     * @param self    a participant draining nodes it uses itself; not paused nor waited for
     * @param maxWait null: wait as long as it takes (QEMU's behaviour)
     */
    public DrainedSection drain(BlockNode node, @Nullable DrainParticipant self, @Nullable Duration maxWait) {
        Set<BlockNode> scope = lock.call(() -> DrainScope.of(node));
        return drains.begin(scope, self, maxWait);
    }

    /** Drains every node of the graph. */
    public DrainedSection drainAll(@Nullable DrainParticipant self, @Nullable Duration maxWait) {
        return drains.begin(new LinkedHashSet<>(registry.all()), self, maxWait);
    }

    /** What the health endpoint shows. */
    public DrainStats drainStats() {
        int inFlight = 0;
        long oldest = 0;
        for (BlockNode n : registry.all()) {
            inFlight += n.requests().inFlight();
            oldest = Math.max(oldest, n.requests().busyMillis());
        }
        return new DrainStats(inFlight, drains.drainsInProgress(), oldest, drains.longestDrainMillis());
    }

    // ------------------------------------------------------------------ structure changes

    /**
     * Attaches an external user at {@code root}, taking {@code takes} there and sharing
     * {@code shares} (both may be empty). The attachment moves with filter insertion.
     */
    public Attachment attach(
            Holder holder, BlockNode root, boolean queueWhileDrained, Set<Permission> takes, Set<Permission> shares) {
        return changes.attach(holder, root, queueWhileDrained, takes, shares);
    }

    /**
     * Inserts a copy-on-read filter directly above {@code above}: every parent link and attachment
     * of {@code above} now points to the filter (stream-semantics §2.2). The filter joins the
     * drained section.
     *
     * @param name   null: a generated name, and the filter is {@code implicit}
     * @param bottom the lowest layer to copy from; null: the whole chain
     */
    public CopyOnReadFilter insertCopyOnReadFilter(
            DrainedSection section, BlockNode above, @Nullable String name, @Nullable BlockNode bottom) {
        return changes.insertCopyOnReadFilter(section, above, name, bottom);
    }

    /** A user-given name for a new node: well-formed, short enough, and not taken. */
    public void checkNewNodeName(String name) {
        registry.checkNewName(name);
    }

    /** Removes a filter: its parents and attachments point to its child again. Release its freezes first. */
    public void dropFilter(DrainedSection section, FilterNode filter) {
        changes.dropFilter(section, filter);
    }

    /**
     * {@link #setBacking} to what comes after {@code above} in its chain at this moment, read and
     * set under one hold of the graph lock: a filter dropped meanwhile by another job (whose
     * filter may be that next node) is either gone before the read or repoints this link after
     * it, never closed in between, as QEMU's stream_prepare reads and sets under the BQL.
     * Returns the new backing node.
     */
    public @Nullable BlockNode setBackingToNextOf(DrainedSection section, FormatNode node, BlockNode above) {
        return changes.setBackingToNextOf(section, node, above);
    }

    /**
     * Points {@code node}'s backing link at {@code backing} (null: none); the image header is
     * {@link FormatNode#changeBackingFile}'s business. The old backing node closes if it was
     * implicit and nothing else uses it.
     */
    public void setBacking(DrainedSection section, FormatNode node, @Nullable BlockNode backing) {
        changes.setBacking(section, node, backing);
    }

    /**
     * Reopens a format node read-only or read-write. A node whose storage is read-only cannot
     * become writable: "Block node is read-only".
     */
    public void reopen(DrainedSection section, FormatNode node, boolean readOnly) {
        changes.reopen(section, node, readOnly);
    }

    /**
     * Freezes the {@code next} links from {@code top} down to {@code until} (the links of nodes
     * strictly above {@code until}; null: to the end of the chain). Frozen links cannot change.
     *
     * @throws FrozenLinkException "Cannot change 'backing' link from 'A' to 'B'" when a link is
     *                             frozen already
     * @throws dev.blockpull.io.BlockException INVALID_ARGUMENT when {@code until} is not in the chain of {@code top}
     */
    public FrozenChain freezeChain(BlockNode top, @Nullable BlockNode until) {
        return changes.freezeChain(top, until);
    }

    // ------------------------------------------------------------------ snapshot

    /**
     * blockdev-snapshot-sync: creates a qcow2 overlay of {@code node} in {@code overlayFile} (its
     * backing name relative to the overlay's directory, with the format), opens it read-write as
     * {@code overlayName}, re-points the node's parents and attachments to it, and reopens the old
     * node read-only, as QEMU does.
     */
    public FormatNode snapshot(
            String nodeName, String overlayFile, @Nullable String overlayName, @Nullable Duration maxDrainWait) {
        return snapshots.snapshot(nodeName, overlayFile, overlayName, maxDrainWait, true);
    }

    /**
     * A snapshot made before a restart, made again: {@link #snapshot} with the overlay the first
     * one created, which must exist and name {@code node}'s image as its backing file.
     */
    public FormatNode reattachSnapshot(
            String nodeName, String overlayFile, @Nullable String overlayName, @Nullable Duration maxDrainWait) {
        return snapshots.snapshot(nodeName, overlayFile, overlayName, maxDrainWait, false);
    }
}
