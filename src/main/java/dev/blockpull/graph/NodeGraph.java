package dev.blockpull.graph;

import dev.blockpull.format.BackingReference;
import dev.blockpull.format.BackingResolver;
import dev.blockpull.format.CreateOptions;
import dev.blockpull.format.Image;
import dev.blockpull.format.ImageCreator;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.DataRoot;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The block graph: the registry of named nodes and every change of its structure. Structure
 * changes run under one graph lock; those that re-point links of live nodes (filter insert and
 * drop, backing change, reopen) take a {@link DrainedSection} that covers the nodes, so that no
 * request is in flight while a link moves. Node I/O never takes the graph lock.
 *
 * <p>For the job floor: {@link #drain}, {@link #insertCopyOnReadFilter}, {@link #dropFilter},
 * {@link #setBacking}, {@link #reopen}, {@link #freezeChain}, {@link #attach},
 * {@link DrainCoordinator#register} (via {@link #drains()}), {@link PermissionTable#claim} and
 * {@link BlockNode#block} on the nodes.
 */
public final class NodeGraph implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NodeGraph.class);

    private final DataRoot root;
    private final BackingResolver resolver;
    private final GraphSettings settings;
    private final ImageFileOpener opener;
    private final DrainCoordinator drains = new DrainCoordinator();
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, BlockNode> nodes = new ConcurrentHashMap<>();
    /** File identity of each format node's image, to refuse opening a file twice for writing. */
    private final Map<BlockNode, Object> fileKeys = new ConcurrentHashMap<>();
    private final AtomicLong generated = new AtomicLong();

    public NodeGraph(DataRoot root, BackingResolver resolver, GraphSettings settings) {
        this(root, resolver, settings, ImageFileOpener.confined(root));
    }

    public NodeGraph(DataRoot root, BackingResolver resolver, GraphSettings settings, ImageFileOpener opener) {
        this.root = root;
        this.resolver = resolver;
        this.settings = settings;
        this.opener = opener;
    }

    ImageFileOpener opener() {
        return opener;
    }

    public DataRoot dataRoot() {
        return root;
    }

    public DrainCoordinator drains() {
        return drains;
    }

    // ------------------------------------------------------------------ lookups

    public Optional<BlockNode> find(String name) {
        return Optional.ofNullable(nodes.get(name));
    }

    /** @throws NodeNotFoundException with blockdev-del's wording */
    public BlockNode get(String name) {
        BlockNode n = nodes.get(name);
        if (n == null) {
            throw NodeNotFoundException.of(name);
        }
        return n;
    }

    /** Every node, sorted by name (generated {@code #block...} names first). */
    public List<BlockNode> nodes() {
        List<BlockNode> all = new ArrayList<>(nodes.values());
        all.sort(Comparator.comparing(BlockNode::name));
        return all;
    }

    /** The relative name of a node's file, or null. */
    public @Nullable String filename(BlockNode node) {
        Path p = node.path();
        return p == null ? null : root.relativize(p);
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
        return open(opener -> opener.open(definition));
    }

    /** Opens a fault-injection filter and, when defined inline, the image below it, all-or-nothing. */
    public FaultInjectionFilter open(FaultFilterDefinition definition) {
        return open(opener -> opener.open(definition));
    }

    private <T extends BlockNode> T open(java.util.function.Function<NodeOpener, T> how) {
        lock.lock();
        try {
            NodeOpener opener = new NodeOpener(this, root, resolver, settings);
            T top = how.apply(opener);
            for (BlockNode n : opener.created()) {
                nodes.put(n.name(), n);
            }
            log.info("Opened node {} ({} nodes: {})", top.name(), opener.created().size(),
                    opener.created().stream().map(BlockNode::name).toList());
            return top;
        } finally {
            lock.unlock();
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
        lock.lock();
        try {
            BlockNode node = get(name);
            node.checkNotBlocked(BlockOp.DELETE);
            List<Link> parents = node.parentLinks();
            if (!parents.isEmpty()) {
                Link p = parents.get(0);
                throw new NodeInUseException("Block device " + name + " is in use: it is the " + p.role().linkName()
                        + " child of node '" + p.parent().name() + "'; delete '" + p.parent().name() + "' first");
            }
            List<String> holders = usedBy(node);
            if (!holders.isEmpty()) {
                throw new NodeInUseException("Block device " + name + " is in use by " + String.join(", ", holders));
            }
            if (!node.isUserOwned()) {
                throw new NodeInUseException("Node " + name + " is not owned by the monitor; it closes with its parent");
            }
            try (DrainedSection ignored = drain(node, null, maxDrainWait)) {
                unregisterAndClose(node);
            }
            log.info("Closed node {}", name);
        } finally {
            lock.unlock();
        }
    }

    /** Closes every node, tops first (service shutdown). */
    @Override
    public void close() {
        lock.lock();
        try {
            for (BlockNode n : nodes()) {
                if (n.parentLinks().isEmpty() && !n.isClosed()) {
                    unregisterAndClose(n);
                }
            }
            for (BlockNode n : nodes()) {
                closeQuietly(n);
            }
            nodes.clear();
        } finally {
            lock.unlock();
        }
    }

    /** Unlinks a node nobody uses, closes it, and then its children that became unused and are implicit. */
    private void unregisterAndClose(BlockNode node) {
        nodes.remove(node.name());
        fileKeys.remove(node);
        List<BlockNode> orphans = new ArrayList<>();
        for (Link l : node.children()) {
            BlockNode c = l.child();
            if (c != null) {
                removeParent(c, l);
                l.setChild(null);
                if (!c.isUserOwned() && c.parentLinks().isEmpty() && c.attachments().isEmpty()) {
                    orphans.add(c);
                }
            }
        }
        closeQuietly(node);
        for (BlockNode o : orphans) {
            unregisterAndClose(o);
        }
    }

    private void closeQuietly(BlockNode n) {
        try {
            n.closeResources();
        } catch (RuntimeException e) {
            log.warn("Closing node {} failed: {}", n.name(), e.toString());
        }
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
        Set<BlockNode> scope;
        lock.lock();
        try {
            scope = scopeOf(node);
        } finally {
            lock.unlock();
        }
        return drains.begin(scope, self, maxWait);
    }

    /** Drains every node of the graph. */
    public DrainedSection drainAll(@Nullable DrainParticipant self, @Nullable Duration maxWait) {
        return drains.begin(new LinkedHashSet<>(nodes.values()), self, maxWait);
    }

    private Set<BlockNode> scopeOf(BlockNode node) {
        Set<BlockNode> scope = new LinkedHashSet<>();
        Deque<BlockNode> up = new ArrayDeque<>(List.of(node));
        while (!up.isEmpty()) {
            BlockNode n = up.pop();
            if (scope.add(n)) {
                n.parentLinks().forEach(l -> up.push(l.parent()));
            }
        }
        Deque<BlockNode> down = new ArrayDeque<>(List.of(node));
        while (!down.isEmpty()) {
            BlockNode n = down.pop();
            for (Link l : n.children()) {
                BlockNode c = l.child();
                if (c != null && scope.add(c)) {
                    down.push(c);
                }
            }
        }
        return scope;
    }

    /** What the health endpoint shows. */
    public DrainStats drainStats() {
        int inFlight = 0;
        long oldest = 0;
        for (BlockNode n : nodes.values()) {
            inFlight += n.requests().inFlight();
            oldest = Math.max(oldest, n.requests().busyMillis());
        }
        return new DrainStats(inFlight, drains.drainsInProgress(), oldest, drains.longestDrainMillis());
    }

    // ------------------------------------------------------------------ attachments

    /**
     * Attaches an external user at {@code root}, taking {@code takes} there and sharing
     * {@code shares} (both may be empty). The attachment moves with filter insertion.
     */
    public Attachment attach(Holder holder, BlockNode root, boolean queueWhileDrained, Set<Permission> takes,
                             Set<Permission> shares) {
        lock.lock();
        try {
            root.checkOpen();
            PermissionClaim claim = takes.isEmpty() && shares.containsAll(Set.of(Permission.values())) ? null
                    : root.permissions().claim(holder, "root", takes, shares);
            Attachment a = new Attachment(this, holder, root, queueWhileDrained, claim);
            synchronized (root.attachments) {
                root.attachments.add(a);
            }
            return a;
        } finally {
            lock.unlock();
        }
    }

    void detach(Attachment a) {
        lock.lock();
        try {
            BlockNode r = a.root();
            synchronized (r.attachments) {
                r.attachments.remove(a);
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ structure changes under a drain

    /**
     * Inserts a copy-on-read filter directly above {@code above}: every parent link and attachment
     * of {@code above} now points to the filter (stream-semantics §2.2). The filter joins the
     * drained section.
     *
     * @param name   null: a generated name, and the filter is {@code implicit}
     * @param bottom the lowest layer to copy from; null: the whole chain
     */
    public CopyOnReadFilter insertCopyOnReadFilter(DrainedSection section, BlockNode above, @Nullable String name,
                                                   @Nullable BlockNode bottom) {
        lock.lock();
        try {
            requireDrained(section, above);
            if (name != null) {
                checkNewNodeName(name);
            }
            List<Link> parents = above.parentLinks();
            for (Link l : parents) {
                checkNotFrozen(l);
            }
            CopyOnReadFilter filter = new CopyOnReadFilter(name != null ? name : generateName(), above, bottom,
                    name == null, drains);
            section.join(filter);
            for (Link l : parents) {
                repoint(l, filter);
            }
            for (Attachment a : above.attachments()) {
                moveAttachment(a, above, filter);
            }
            addParent(above, filter.filteredLink());
            if (BackingChain.skipFilters(above) instanceof FormatNode t) {
                t.addCopyOnReadUser(1);
            }
            nodes.put(filter.name(), filter);
            log.debug("Inserted {} above {}", filter.name(), above.name());
            return filter;
        } finally {
            lock.unlock();
        }
    }

    /** A user-given name for a new node: well-formed, short enough, and not taken. */
    public void checkNewNodeName(String name) {
        NodeName.check(name);
        if (nodes.containsKey(name)) {
            throw NodeOpener.duplicate(name);
        }
    }

    /** Removes a filter: its parents and attachments point to its child again. Release its freezes first. */
    public void dropFilter(DrainedSection section, FilterNode filter) {
        lock.lock();
        try {
            requireDrained(section, filter);
            Link own = filter.filteredLink();
            if (own.isFrozen()) {
                throw new FrozenLinkException("Cannot change '" + own.role().linkName() + "' link from '"
                        + filter.name() + "' to '" + filter.child().name() + "'");
            }
            List<Link> parents = filter.parentLinks();
            for (Link l : parents) {
                checkNotFrozen(l);
            }
            BlockNode child = filter.child();
            for (Link l : parents) {
                repoint(l, child);
            }
            for (Attachment a : filter.attachments()) {
                moveAttachment(a, filter, child);
            }
            removeParent(child, own);
            own.setChild(null);
            if (filter instanceof CopyOnReadFilter && BackingChain.skipFilters(child) instanceof FormatNode t) {
                t.addCopyOnReadUser(-1);
            }
            nodes.remove(filter.name());
            filter.closeResources();
            log.debug("Dropped {} above {}", filter.name(), child.name());
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@link #setBacking} to what comes after {@code above} in its chain at this moment, read and
     * set under one hold of the graph lock: a filter dropped meanwhile by another job (whose
     * filter may be that next node) is either gone before the read or repoints this link after
     * it, never closed in between, as QEMU's stream_prepare reads and sets under the BQL.
     * Returns the new backing node.
     */
    public @Nullable BlockNode setBackingToNextOf(DrainedSection section, FormatNode node, BlockNode above) {
        lock.lock();
        try {
            BlockNode backing = BackingChain.next(above);
            setBacking(section, node, backing);
            return backing;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Points {@code node}'s backing link at {@code backing} (null: none); the image header is
     * {@link FormatNode#changeBackingFile}'s business. The old backing node closes if it was
     * implicit and nothing else uses it.
     */
    public void setBacking(DrainedSection section, FormatNode node, @Nullable BlockNode backing) {
        lock.lock();
        try {
            requireDrained(section, node);
            Link link = node.backingLink();
            if (link == null) {
                throw new BlockException(BlockErrorKind.INVALID_ARGUMENT,
                        "Driver '" + node.driver().id() + "' of node '" + node.name() + "' does not support backing files");
            }
            BlockNode old = link.child();
            if (old == backing) {
                return;
            }
            checkNotFrozen(link);
            if (backing != null && BackingChain.contains(backing, node)) {
                throw new BlockException(BlockErrorKind.INVALID_ARGUMENT, "Making '" + backing.name()
                        + "' a backing child of '" + node.name() + "' would create a cycle");
            }
            if (backing != null) {
                backing.checkOpen();
                addParent(backing, link);
            }
            link.setChild(backing);
            if (old != null) {
                removeParent(old, link);
                if (!old.isUserOwned() && old.parentLinks().isEmpty() && old.attachments().isEmpty()) {
                    unregisterAndClose(old);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reopens a format node read-only or read-write. A node whose storage is read-only cannot
     * become writable: "Block node is read-only".
     */
    public void reopen(DrainedSection section, FormatNode node, boolean readOnly) {
        lock.lock();
        try {
            requireDrained(section, node);
            node.reopen(readOnly);
            Object key = NodeOpener.identity(root, node.path());
            fileKeys.put(node, key);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Freezes the {@code next} links from {@code top} down to {@code until} (the links of nodes
     * strictly above {@code until}; null: to the end of the chain). Frozen links cannot change.
     *
     * @throws FrozenLinkException "Cannot freeze 'backing' link to 'F'" for a node that may never be
     *                             frozen; "Cannot change 'backing' link from 'A' to 'B'" when a
     *                             link is frozen already
     */
    public FrozenChain freezeChain(BlockNode top, @Nullable BlockNode until) {
        lock.lock();
        try {
            List<Link> links = new ArrayList<>();
            for (BlockNode p = top; p != null && p != until; p = BackingChain.next(p)) {
                Link l = p.isFilter() ? p.filteredLink() : p.backingLink();
                if (l == null || l.child() == null) {
                    break;
                }
                links.add(l);
            }
            if (until != null && !BackingChain.contains(top, until)) {
                throw new BlockException(BlockErrorKind.INVALID_ARGUMENT,
                        "'" + until.name() + "' is not in the backing chain of '" + top.name() + "'");
            }
            for (Link l : links) {
                checkNotFrozen(l);
            }
            links.forEach(l -> l.setFrozen(true));
            return new FrozenChain(this, links);
        } finally {
            lock.unlock();
        }
    }

    void thaw(FrozenChain chain) {
        lock.lock();
        try {
            if (chain.markReleased()) {
                chain.links().forEach(l -> l.setFrozen(false));
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ snapshot

    /**
     * blockdev-snapshot-sync: creates a qcow2 overlay of {@code node} in {@code overlayFile} (its
     * backing name relative to the overlay's directory, with the format), opens it read-write as
     * {@code overlayName}, re-points the node's parents and attachments to it, and reopens the old
     * node read-only, as QEMU does.
     */
    public FormatNode snapshot(String nodeName, String overlayFile, @Nullable String overlayName,
                               @Nullable Duration maxDrainWait) {
        return snapshot(nodeName, overlayFile, overlayName, maxDrainWait, true);
    }

    /**
     * A snapshot made before a restart, made again: {@link #snapshot} with the overlay the first
     * one created, which must exist and name {@code node}'s image as its backing file.
     */
    public FormatNode reattachSnapshot(String nodeName, String overlayFile, @Nullable String overlayName,
                                       @Nullable Duration maxDrainWait) {
        return snapshot(nodeName, overlayFile, overlayName, maxDrainWait, false);
    }

    private FormatNode snapshot(String nodeName, String overlayFile, @Nullable String overlayName,
                                @Nullable Duration maxDrainWait, boolean create) {
        lock.lock();
        try {
            BlockNode node = get(nodeName);
            node.checkNotBlocked(BlockOp.EXTERNAL_SNAPSHOT);
            if (!(BackingChain.skipFilters(node) instanceof FormatNode data)) {
                throw new BlockException(BlockErrorKind.INVALID_ARGUMENT, "Node '" + nodeName + "' has no image to snapshot");
            }
            if (overlayName != null) {
                NodeName.check(overlayName);
                if (nodes.containsKey(overlayName)) {
                    throw NodeOpener.duplicate(overlayName);
                }
            }
            Path overlayPath = root.resolve(overlayFile);
            String relative = root.relativize(overlayPath);
            boolean exists = Files.exists(overlayPath, LinkOption.NOFOLLOW_LINKS);
            if (create && exists) {
                throw new BlockException(BlockErrorKind.CONFLICT, "Image '" + relative
                        + "' already exists; choose another snapshotFile (existing files are never overwritten)");
            }
            if (!create && !exists) {
                throw new BlockException(BlockErrorKind.NOT_FOUND, "Snapshot overlay '" + relative + "' is gone");
            }
            List<Link> parents = node.parentLinks();
            for (Link l : parents) {
                checkNotFrozen(l);
            }
            if (create) {
                createOverlay(overlayPath, relative, data, node.length());
            }
            FormatNode overlay;
            try {
                Image image = opener.open(overlayPath, ImageFormat.QCOW2, false, settings.directIo());
                if (!create) {
                    checkNamesBacking(image, overlayPath, relative, data);
                }
                ProtocolNode file = new ProtocolNode(generateName(), overlayPath, false, fileSize(overlayPath), drains);
                overlay = new FormatNode(overlayName != null ? overlayName : generateName(), image, file,
                        settings.directIo(), opener, drains, true);
                addParent(file, overlay.fileLink());
            } catch (RuntimeException e) {
                if (create) {
                    deleteQuietly(overlayPath);
                }
                throw e;
            }
            try (DrainedSection section = drain(node, null, maxDrainWait)) {
                section.join(overlay);
                for (Link l : parents) {
                    repoint(l, overlay);
                }
                for (Attachment a : node.attachments()) {
                    moveAttachment(a, node, overlay);
                }
                Link backing = java.util.Objects.requireNonNull(overlay.backingLink());
                backing.setChild(node);
                addParent(node, backing);
                nodes.put(overlay.name(), overlay);
                nodes.put(overlay.file().name(), overlay.file());
                fileKeys.put(overlay, NodeOpener.identity(root, overlayPath));
                if (data.file().isStorageReadOnly() || !data.isReadOnly()) {
                    reopenReadOnlyQuietly(data);
                }
            } catch (RuntimeException e) {
                overlay.closeResources();
                if (create) {
                    deleteQuietly(overlayPath);
                }
                throw e;
            }
            log.info("Snapshot of {} in {} as node {}", nodeName, relative, overlay.name());
            return overlay;
        } finally {
            lock.unlock();
        }
    }

    private void checkNamesBacking(Image overlay, Path overlayPath, String relative, FormatNode node) {
        BackingReference ref = overlay.backing().orElse(null);
        Path named = ref == null ? null : root.resolveBacking(overlayPath, ref.fileName());
        if (named == null || !named.equals(node.path())) {
            overlay.close();
            throw new BlockException(BlockErrorKind.CONFLICT, "Snapshot overlay '" + relative + "' changed: its header "
                    + "names " + (ref == null ? "no backing file" : "'" + ref.fileName() + "'") + ", not '"
                    + root.relativize(node.path()) + "'");
        }
    }

    private void createOverlay(Path overlayPath, String relative, FormatNode backing, long size) {
        Path dir = overlayPath.getParent();
        String backingName = dir.relativize(backing.path()).toString();
        // every backing string written passes the check applied to the ones read
        root.resolveBacking(overlayPath, backingName);
        ImageCreator.create(overlayPath, CreateOptions.qcow2(size, new BackingReference(backingName, backing.format())),
                root.files());
    }

    private void reopenReadOnlyQuietly(FormatNode node) {
        try {
            node.reopen(true);
            fileKeys.put(node, NodeOpener.identity(root, node.path()));
        } catch (RuntimeException e) {
            log.warn("Could not reopen {} read-only after the snapshot: {}", node.name(), e.toString());
        }
    }

    // ------------------------------------------------------------------ helpers

    String generateName() {
        while (true) {
            String name = NodeName.GENERATED_PREFIX + String.format("%03d", generated.incrementAndGet());
            if (!nodes.containsKey(name)) {
                return name;
            }
        }
    }

    Map<BlockNode, Object> fileKeys() {
        return fileKeys;
    }

    /** Refuses a second open of one file when either open could write: two caches of one qcow2 corrupt it. */
    void checkNotOpenElsewhere(Object key, String relative, boolean readOnly) {
        for (Map.Entry<BlockNode, Object> e : fileKeys.entrySet()) {
            if (e.getValue().equals(key) && (!readOnly || !e.getKey().isReadOnly())) {
                throw new BlockException(BlockErrorKind.CONFLICT, "Image '" + relative + "' is already open as node '"
                        + e.getKey().name() + "'; refer to that node (\"backing\": \"" + e.getKey().name()
                        + "\") instead of opening the file twice");
            }
        }
    }

    private void requireDrained(DrainedSection section, BlockNode node) {
        if (!section.covers(node)) {
            throw new IllegalStateException("Graph change on '" + node.name() + "' outside a drained section covering it");
        }
    }

    private static void checkNotFrozen(Link l) {
        if (l.isFrozen()) {
            BlockNode c = l.child();
            throw new FrozenLinkException("Cannot change '" + l.role().linkName() + "' link from '" + l.parent().name()
                    + "' to '" + (c == null ? "" : c.name()) + "'");
        }
    }

    private static void repoint(Link l, BlockNode to) {
        BlockNode from = l.child();
        if (from != null) {
            removeParent(from, l);
        }
        l.setChild(to);
        addParent(to, l);
    }

    private static void moveAttachment(Attachment a, BlockNode from, BlockNode to) {
        synchronized (from.attachments) {
            from.attachments.remove(a);
        }
        synchronized (to.attachments) {
            to.attachments.add(a);
        }
        a.setRoot(to);
    }

    private static void addParent(BlockNode child, Link l) {
        synchronized (child.parents) {
            child.parents.add(l);
        }
    }

    private static void removeParent(BlockNode child, Link l) {
        synchronized (child.parents) {
            child.parents.removeIf(x -> x == l);
        }
    }

    private long fileSize(Path p) {
        try {
            return root.files().attributes(p).size();
        } catch (IOException e) {
            throw new BlockIoException("Cannot read the size of " + p + ": " + e.getMessage(), e);
        }
    }

    private void deleteQuietly(Path p) {
        try {
            root.files().deleteIfExists(p);
        } catch (IOException ignored) {
            // the original failure is the one to report
        }
    }
}
