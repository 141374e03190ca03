package dev.blockpull.graph;

import dev.blockpull.format.AllocationRun;
import dev.blockpull.format.Extent;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.ReadHint;
import dev.blockpull.io.Zeros;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * One node of the block graph. The public I/O methods are the internal request path (a parent's
 * request descending, a job's own I/O): they are counted as in flight on this node but never wait
 * for a drain. External users enter through an {@link Attachment}, which waits while drained.
 * Reads past the end read as zeros; structure changes belong to {@link NodeGraph}.
 */
public abstract class BlockNode {

    private final String name;
    private final Driver driver;
    private final RequestTracker requests;
    private final PermissionTable permissions = new PermissionTable(this);
    private final List<OpBlocker> blockers = new CopyOnWriteArrayList<>();
    /**
     * Links of other nodes that point here, and the attachments whose root this is. Changed only
     * under the graph lock, through the methods below; synchronized because I/O and views read
     * them without that lock.
     */
    private final List<Link> parents = new ArrayList<>();

    private final List<Attachment> attachments = new ArrayList<>();
    /** Opened by name through the API (blockdev-add): stays until deleted. Others close with their last parent. */
    private final boolean userOwned;

    private volatile boolean closed;

    BlockNode(String name, Driver driver, DrainCoordinator drains, boolean userOwned) {
        this.name = name;
        this.driver = driver;
        this.requests = new RequestTracker(drains);
        this.userOwned = userOwned;
    }

    public String name() {
        return name;
    }

    public Driver driver() {
        return driver;
    }

    public NodeKind kind() {
        return driver.kind();
    }

    public boolean isFilter() {
        return driver.kind() == NodeKind.FILTER;
    }

    /** Opened by name through the API; implicit nodes (generated names) close with their last parent. */
    public boolean isUserOwned() {
        return userOwned;
    }

    /** A filter a job inserted without a name (QEMU's {@code implicit}). */
    public boolean isImplicit() {
        return false;
    }

    /** Guest size in bytes. */
    public abstract long length();

    public abstract boolean isReadOnly();

    /** The file this node's data lives in (a filter's: its child's). */
    public abstract @Nullable Path path();

    /** Links to children: file, backing, filtered; absent roles are not listed. */
    public abstract List<Link> children();

    /** The COW child's link, if this node can have one. */
    public @Nullable Link backingLink() {
        return null;
    }

    /** The filtered child's link, if this is a filter. */
    public @Nullable Link filteredLink() {
        return null;
    }

    /** The file child's link of a format node. */
    public @Nullable Link fileLink() {
        return null;
    }

    public RequestTracker requests() {
        return requests;
    }

    public PermissionTable permissions() {
        return permissions;
    }

    /** Parents: nodes linking here, in no particular order. */
    public List<Link> parentLinks() {
        synchronized (parents) {
            return List.copyOf(parents);
        }
    }

    public List<Attachment> attachments() {
        synchronized (attachments) {
            return List.copyOf(attachments);
        }
    }

    void addParent(Link link) {
        synchronized (parents) {
            parents.add(link);
        }
    }

    void removeParent(Link link) {
        synchronized (parents) {
            parents.removeIf(x -> x == link);
        }
    }

    void addAttachment(Attachment a) {
        synchronized (attachments) {
            attachments.add(a);
        }
    }

    void removeAttachment(Attachment a) {
        synchronized (attachments) {
            attachments.remove(a);
        }
    }

    /** Nothing links here or is attached here: an implicit node in this state closes. */
    boolean isUnused() {
        return parentLinks().isEmpty() && attachments().isEmpty();
    }

    public boolean isClosed() {
        return closed;
    }

    // ------------------------------------------------------------------ op blockers

    /** Blocks {@code ops} on this node for everyone but the holder's own checks. */
    public OpBlocker block(Holder holder, Set<BlockOp> ops, String reason) {
        OpBlocker b = new OpBlocker(this, holder, Set.copyOf(ops), reason);
        blockers.add(b);
        return b;
    }

    void removeBlocker(OpBlocker b) {
        blockers.removeIf(x -> x == b);
    }

    /** @throws NodeBusyException "Node 'N' is busy: REASON" when some holder blocks {@code op} */
    public void checkNotBlocked(BlockOp op) {
        for (OpBlocker b : blockers) {
            if (b.ops().contains(op)) {
                throw new NodeBusyException("Node '" + name + "' is busy: " + b.reason());
            }
        }
    }

    public List<OpBlocker> blockers() {
        return List.copyOf(blockers);
    }

    // ------------------------------------------------------------------ I/O, internal path

    /** Reads {@code dst.remaining()} bytes of this node's guest view at {@code offset}. */
    public final void read(long offset, ByteBuffer dst) {
        read(offset, dst, ReadHint.CACHED);
    }

    /** {@link #read(long, ByteBuffer)} with a hint for the storage below (QEMU's request flags). */
    public final void read(long offset, ByteBuffer dst, ReadHint hint) {
        requests.begin();
        try {
            readUncounted(offset, dst, hint);
        } finally {
            requests.end();
        }
    }

    public final void write(long offset, ByteBuffer src) {
        requests.begin();
        try {
            writeUncounted(offset, src);
        } finally {
            requests.end();
        }
    }

    public final void writeZeroes(long offset, long length, boolean mayUnmap) {
        requests.begin();
        try {
            writeZeroesUncounted(offset, length, mayUnmap);
        } finally {
            requests.end();
        }
    }

    public final void flush() {
        requests.begin();
        try {
            checkOpen();
            doFlush();
        } finally {
            requests.end();
        }
    }

    /**
     * QEMU's {@code BDRV_REQ_PREFETCH}: a read that returns nothing and only makes
     * {@code [offset, offset + length)} present where a node copies or caches (a copy-on-read
     * filter copies it into its top). {@code scratch} is the caller's buffer for the data on its
     * way; its capacity bounds one step, so the request allocates nothing.
     */
    public final void prefetch(long offset, long length, ByteBuffer scratch) {
        requests.begin();
        try {
            prefetchUncounted(offset, length, scratch);
        } finally {
            requests.end();
        }
    }

    /** {@link dev.blockpull.format.Image#writeBack} of the image below (filters pass it down). */
    public final void writeBack() {
        requests.begin();
        try {
            checkOpen();
            doWriteBack();
        } finally {
            requests.end();
        }
    }

    /**
     * This node's own allocation of {@code [offset, offset + length)} clipped to its length (a
     * filter answers with its child's): adjacent extents covering the range.
     */
    public final List<Extent> blockStatus(long offset, long length) {
        requests.begin();
        try {
            checkOpen();
            return doBlockStatus(offset, length);
        } finally {
            requests.end();
        }
    }

    /** The first run of {@link #blockStatus} by allocation alone ({@link dev.blockpull.format.Image#allocationRun}). */
    public final AllocationRun allocationRun(long offset, long length) {
        requests.begin();
        try {
            checkOpen();
            return doAllocationRun(offset, length);
        } finally {
            requests.end();
        }
    }

    final void readUncounted(long offset, ByteBuffer dst, ReadHint hint) {
        checkOpen();
        if (offset < 0) {
            throw new BlockException(BlockErrorKind.INVALID_ARGUMENT, "Negative read offset " + offset);
        }
        long inside = Math.max(0, Math.min(dst.remaining(), length() - offset));
        if (inside > 0) {
            int limit = dst.limit();
            dst.limit(dst.position() + (int) inside);
            try {
                doRead(offset, dst, hint);
            } finally {
                dst.limit(limit);
            }
        }
        Zeros.fill(dst);
    }

    final void prefetchUncounted(long offset, long length, ByteBuffer scratch) {
        checkOpen();
        long end = Math.min(offset + length, length());
        if (offset >= 0 && offset < end) {
            doPrefetch(offset, end - offset, scratch);
        }
    }

    final void writeUncounted(long offset, ByteBuffer src) {
        checkOpen();
        checkRange("Write", offset, src.remaining());
        if (src.hasRemaining()) {
            doWrite(offset, src);
        }
    }

    final void writeZeroesUncounted(long offset, long length, boolean mayUnmap) {
        checkOpen();
        checkRange("Write zeroes", offset, length);
        if (length > 0) {
            doWriteZeroes(offset, length, mayUnmap);
        }
    }

    /** Reads exactly {@code dst.remaining()} bytes, all inside the node. */
    protected abstract void doRead(long offset, ByteBuffer dst, ReadHint hint);

    protected void doWriteBack() {}

    /** A prefetch inside the node; nodes that neither copy nor cache have nothing to do. */
    protected void doPrefetch(long offset, long length, ByteBuffer scratch) {}

    protected abstract void doWrite(long offset, ByteBuffer src);

    protected abstract void doWriteZeroes(long offset, long length, boolean mayUnmap);

    protected abstract void doFlush();

    protected abstract List<Extent> doBlockStatus(long offset, long length);

    protected AllocationRun doAllocationRun(long offset, long length) {
        return AllocationRun.first(doBlockStatus(offset, length));
    }

    /** Releases what the node holds (files); the graph has unlinked it already. */
    void closeResources() {
        closed = true;
    }

    private void checkRange(String what, long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > length() || offset + length < 0) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    what + " of " + length + " bytes at " + offset + " lies outside node '" + name + "' (" + length()
                            + " bytes)");
        }
    }

    void checkOpen() {
        if (closed) {
            throw new BlockException(BlockErrorKind.CONFLICT, "Node '" + name + "' is closed");
        }
    }

    @Override
    public String toString() {
        return name + "(" + driver.id() + ")";
    }
}
