package dev.blockpull.graph;

import dev.blockpull.format.ChainExtent;
import dev.blockpull.format.Extent;
import dev.blockpull.io.ReadHint;
import java.nio.ByteBuffer;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An external user's way into the graph (QEMU's BlockBackend): an export, a job's private
 * attachment, an API client. Requests enter at the root node, which a filter insertion moves to
 * the filter, and wait while the root is drained, unless the attachment was made with
 * {@code queueWhileDrained = false} (a job's own: it must not wait for the drain that waits for it).
 */
public final class Attachment implements AutoCloseable {

    private final StructureChanges changes;
    private final Holder holder;
    private final boolean queueWhileDrained;
    private final @Nullable PermissionClaim claim;
    private volatile BlockNode root;
    private volatile boolean closed;

    Attachment(
            StructureChanges changes,
            Holder holder,
            BlockNode root,
            boolean queueWhileDrained,
            @Nullable PermissionClaim claim) {
        this.changes = changes;
        this.holder = holder;
        this.root = root;
        this.queueWhileDrained = queueWhileDrained;
        this.claim = claim;
    }

    public Holder holder() {
        return holder;
    }

    /** The node requests enter at now (a filter inserted above the original root moves it). */
    public BlockNode root() {
        return root;
    }

    void setRoot(BlockNode node) {
        this.root = node;
    }

    public long length() {
        return root.length();
    }

    public void read(long offset, ByteBuffer dst) {
        BlockNode n = admit();
        try {
            n.readUncounted(offset, dst, ReadHint.CACHED);
        } finally {
            n.requests().end();
        }
    }

    public void write(long offset, ByteBuffer src) {
        BlockNode n = admit();
        try {
            n.writeUncounted(offset, src);
        } finally {
            n.requests().end();
        }
    }

    public void writeZeroes(long offset, long length, boolean mayUnmap) {
        BlockNode n = admit();
        try {
            n.writeZeroesUncounted(offset, length, mayUnmap);
        } finally {
            n.requests().end();
        }
    }

    public void flush() {
        BlockNode n = admit();
        try {
            n.checkOpen();
            n.doFlush();
        } finally {
            n.requests().end();
        }
    }

    /** Allocation as the root answers it (a filter: its child's). */
    public List<Extent> blockStatus(long offset, long length) {
        BlockNode n = admit();
        try {
            n.checkOpen();
            return n.doBlockStatus(offset, length);
        } finally {
            n.requests().end();
        }
    }

    /**
     * Allocation of the whole chain below the root ({@link BackingChain#map}): what a reader of
     * this attachment sees, counted as one request on the root, so a graph change never moves a
     * link while the walk is under way.
     */
    public List<ChainExtent> chainStatus(long offset, long length) {
        BlockNode n = admit();
        try {
            n.checkOpen();
            return BackingChain.map(n, offset, length);
        } finally {
            n.requests().end();
        }
    }

    /**
     * A copy-only read (§3.2, {@link BlockNode#prefetch}): below a copy-on-read filter it copies;
     * without one nothing happens, there being nothing to copy into.
     */
    public void prefetch(long offset, long length, ByteBuffer scratch) {
        BlockNode n = admit();
        try {
            n.prefetchUncounted(offset, length, scratch);
        } finally {
            n.requests().end();
        }
    }

    /** Write-behind of what was written through this attachment ({@link BlockNode#writeBack}). */
    public void writeBack() {
        BlockNode n = admit();
        try {
            n.checkOpen();
            n.doWriteBack();
        } finally {
            n.requests().end();
        }
    }

    /** Enters the current root; retries if a graph change moved the root while it waited. */
    private BlockNode admit() {
        while (true) {
            if (closed) {
                throw new AttachmentClosedException("Attachment of " + holder + " is closed");
            }
            BlockNode n = root;
            n.requests().admit(queueWhileDrained);
            if (n == root) {
                return n;
            }
            n.requests().end();
        }
    }

    /** Detaches from the graph and releases the permissions taken at attach time. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        changes.detach(this);
        if (claim != null) {
            claim.release();
        }
    }

    @Override
    public String toString() {
        return "Attachment[" + holder + " -> " + root.name() + "]";
    }
}
