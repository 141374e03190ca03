package dev.blockpull.graph;

import dev.blockpull.format.AllocationRun;
import dev.blockpull.format.BackingReference;
import dev.blockpull.format.Extent;
import dev.blockpull.format.Image;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.ReadHint;
import dev.blockpull.io.Zeros;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A qcow2 or raw image over its {@code file} node, with a COW child for qcow2. Reads fall through
 * what the image does not hold to the backing node (past the backing's end: zeros); writes,
 * write-zeroes and flush go to the image; partial-cluster copy-on-write reads through the
 * backing node too. Large requests pass to the image whole, split only where allocation changes.
 */
public final class FormatNode extends BlockNode {

    private final Link file;
    private final @Nullable Link backing;
    private volatile Image image;
    private final boolean direct;
    private final ImageFileOpener opener;
    private final RangeLocks serialisation = new RangeLocks();
    /** Copy-on-read filters reading into this node; while any, writes are serialised per cluster. */
    private volatile int copyOnReadUsers;

    private final NodeIoCounters io = new NodeIoCounters();

    FormatNode(
            String name,
            Image image,
            ProtocolNode file,
            boolean direct,
            ImageFileOpener opener,
            DrainCoordinator drains,
            boolean userOwned) {
        super(name, Driver.of(image.format()), drains, userOwned);
        this.image = image;
        this.direct = direct;
        this.opener = opener;
        this.file = new Link(this, ChildRole.FILE, file);
        this.backing = image.format() == ImageFormat.QCOW2 ? new Link(this, ChildRole.BACKING, null) : null;
        image.attachBacking(this::readBelow);
    }

    @Override
    public long length() {
        return image.virtualSize();
    }

    @Override
    public boolean isReadOnly() {
        return image.isReadOnly();
    }

    @Override
    public Path path() {
        return image.path();
    }

    public ImageFormat format() {
        return image.format();
    }

    /** Allocation granularity: the qcow2 cluster size, 512 for raw. */
    public int clusterSize() {
        return image.clusterSize();
    }

    /** The backing file named in the image header (which may differ from the backing link). */
    public Optional<BackingReference> headerBacking() {
        return image.backing();
    }

    /**
     * Rewrites the backing file name and format in the image header, after a flush; the graph's
     * backing link is {@link NodeGraph#setBacking}'s business. Null removes the reference.
     */
    public void changeBackingFile(@Nullable BackingReference reference) {
        checkOpen();
        image.changeBackingFile(reference);
    }

    /** The storage node. */
    public ProtocolNode file() {
        return (ProtocolNode) java.util.Objects.requireNonNull(file.child());
    }

    @Override
    public Link fileLink() {
        return file;
    }

    @Override
    public @Nullable Link backingLink() {
        return backing;
    }

    /** The COW child, if any. */
    public @Nullable BlockNode backingNode() {
        return backing == null ? null : backing.child();
    }

    @Override
    public List<Link> children() {
        List<Link> out = new ArrayList<>(2);
        out.add(file);
        if (backing != null && backing.child() != null) {
            out.add(backing);
        }
        return out;
    }

    /** Bytes read from and written to the image, and failed image operations (for metrics). */
    public NodeIoCounters io() {
        return io;
    }

    /**
     * What {@code reader} reads of the image itself (header fields, sizes), as one external
     * request: it waits while the node is drained, so a reopen or a backing-file rewrite never
     * changes the image under it. Empty once the node is closed.
     */
    public <T> Optional<T> inspect(Function<Image, T> reader) {
        requests().admit(true);
        try {
            return isClosed() ? Optional.empty() : Optional.of(reader.apply(image));
        } finally {
            requests().end();
        }
    }

    /** The engine's own image, for engine-level work (header inspection, tests). */
    public Image imageForInspection() {
        return image;
    }

    // ------------------------------------------------------------------ I/O

    @Override
    protected void doRead(long offset, ByteBuffer dst, ReadHint hint) {
        Image img = image;
        BlockNode below = backingNode();
        if (below == null) {
            imageRead(img, offset, dst, hint); // unallocated reads as zeros: nothing below
            return;
        }
        int limit = dst.limit();
        long pos = offset;
        while (dst.hasRemaining()) {
            AllocationRun run = img.allocationRun(pos, dst.remaining());
            if (run.length() == 0) {
                break; // past the end of the image
            }
            dst.limit(dst.position() + (int) run.length());
            if (run.allocated()) {
                imageRead(img, pos, dst, hint);
            } else {
                below.read(pos, dst, hint);
            }
            dst.limit(limit);
            pos += run.length();
        }
        Zeros.fill(dst);
    }

    /** Copy-on-write of partial clusters: the guest view below this image. */
    private void readBelow(long offset, ByteBuffer dst) {
        BlockNode below = backingNode();
        if (below == null) {
            Zeros.fill(dst);
        } else {
            below.read(offset, dst);
        }
    }

    @Override
    protected void doWrite(long offset, ByteBuffer src) {
        if (copyOnReadUsers == 0) {
            imageWrite(image, offset, src);
            return;
        }
        try (RangeLocks.Range r = lockClusters(offset, src.remaining())) {
            imageWrite(image, offset, src);
        }
    }

    @Override
    protected void doWriteZeroes(long offset, long length, boolean mayUnmap) {
        if (copyOnReadUsers == 0) {
            imageWriteZeroes(image, offset, length, mayUnmap);
            return;
        }
        try (RangeLocks.Range r = lockClusters(offset, length)) {
            imageWriteZeroes(image, offset, length, mayUnmap);
        }
    }

    @Override
    protected void doFlush() {
        try {
            image.flush();
        } catch (RuntimeException e) {
            io.writeFailed();
            throw e;
        }
    }

    // ------------------------------------------------------------------ counted image I/O

    private void imageRead(Image img, long offset, ByteBuffer dst, ReadHint hint) {
        int n = dst.remaining();
        try {
            img.read(offset, dst, hint);
        } catch (RuntimeException e) {
            io.readFailed();
            throw e;
        }
        io.read(n);
    }

    private void imageWrite(Image img, long offset, ByteBuffer src) {
        int n = src.remaining();
        try {
            img.write(offset, src);
        } catch (RuntimeException e) {
            io.writeFailed();
            throw e;
        }
        io.wrote(n);
    }

    private void imageWriteZeroes(Image img, long offset, long length, boolean mayUnmap) {
        try {
            img.writeZeroes(offset, length, mayUnmap);
        } catch (RuntimeException e) {
            io.writeFailed();
            throw e;
        }
        io.wrote(length);
    }

    @Override
    protected List<Extent> doBlockStatus(long offset, long length) {
        return image.blockStatus(offset, length);
    }

    @Override
    protected void doWriteBack() {
        image.writeBack();
    }

    @Override
    protected AllocationRun doAllocationRun(long offset, long length) {
        return image.allocationRun(offset, length);
    }

    // ------------------------------------------------------------------ copy-on-read support

    /**
     * This image's own allocation from {@code offset}: the first run of one answer (no request is
     * counted: the caller's request covers it).
     */
    AllocationRun allocation(long offset, long length) {
        return image.allocationRun(offset, length);
    }

    /** Whether this image itself holds every byte of the range (data or zero clusters). */
    boolean holdsAll(long offset, long length) {
        AllocationRun run = image.allocationRun(offset, length);
        return run.allocated() && run.length() >= length;
    }

    /**
     * Takes the per-cluster range lock over the clusters that the range touches: the lock every
     * write to this node takes while a copy-on-read filter reads into it. Close it to release.
     */
    RangeLocks.Range lockClusters(long offset, long length) {
        long cs = image.clusterSize();
        long start = offset / cs * cs;
        long end = (offset + length + cs - 1) / cs * cs;
        return serialisation.lock(start, end);
    }

    /**
     * A write by the holder of the cluster lock over the range (a copy-on-read fill): all-zero
     * data is written as zeros (zero clusters in qcow2 v3), as QEMU's copy-on-read does, and so is
     * every run of all-zero whole clusters inside it; the data between them goes as one write each.
     */
    void writeLocked(long offset, ByteBuffer src) {
        int start = src.position();
        int end = src.limit();
        int cs = image.clusterSize();
        int run = start;
        boolean runIsZero = false;
        for (int pos = start; pos < end; ) {
            int next = (int) Math.min(end, (offset + (pos - start)) / cs * cs + cs - offset + start);
            boolean zero = Zeros.isZero(src, pos, next);
            if (pos > run && zero != runIsZero) {
                writeRun(offset + (run - start), src, run, pos, runIsZero);
                run = pos;
            }
            runIsZero = zero;
            pos = next;
        }
        if (end > run) {
            writeRun(offset + (run - start), src, run, end, runIsZero);
        }
        src.position(end);
    }

    private void writeRun(long offset, ByteBuffer src, int from, int to, boolean zero) {
        if (zero) {
            imageWriteZeroes(image, offset, to - from, false);
        } else {
            imageWrite(image, offset, src.slice(from, to - from));
        }
    }

    /** Called under a drain by the graph when a copy-on-read filter starts or stops reading into this node. */
    void addCopyOnReadUser(int delta) {
        copyOnReadUsers += delta;
    }

    // ------------------------------------------------------------------ reopen and close

    /** A node on read-only storage can never be reopened read-write (QEMU's bdrv_can_set_read_only). */
    public void checkCanBecomeWritable() {
        if (file().isStorageReadOnly()) {
            throw new BlockException(BlockErrorKind.READ_ONLY, "Block node is read-only");
        }
    }

    /** Reopens the image in another mode, under a drain; the old image stays if the new open fails. */
    void reopen(boolean readOnly) {
        Image old = image;
        if (old.isReadOnly() == readOnly) {
            return;
        }
        if (!readOnly) {
            checkCanBecomeWritable();
        }
        old.flush();
        Image fresh = opener.open(old.path(), old.format(), readOnly, direct);
        fresh.attachBacking(this::readBelow);
        image = fresh;
        old.close();
    }

    @Override
    void closeResources() {
        super.closeResources();
        image.close();
    }
}
