package dev.blockpull.format.qcow2;

import dev.blockpull.format.AllocationRun;
import dev.blockpull.format.BackingReader;
import dev.blockpull.format.BackingReference;
import dev.blockpull.format.Extent;
import dev.blockpull.format.Image;
import dev.blockpull.format.ImageDetails;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.BlockFile;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.InvalidImageException;
import dev.blockpull.io.ReadHint;
import dev.blockpull.io.Zeros;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * A qcow2 image. Metadata lookups and changes run under one lock; guest data is read and
 * written outside it, in parallel. A cluster being allocated is marked in flight so that an
 * overlapping write waits for it instead of allocating it twice.
 *
 * <p>Some 400 lines on purpose: it is the {@link Image} facade of the qcow2 classes, and every
 * operation's part under the metadata lock stays beside the others it orders against.
 */
public final class Qcow2Image implements Image {

    /** L2 tables kept in memory: with 64 KiB clusters, 512 tables map 256 GiB. */
    private static final int L2_CACHE_TABLES = 512;

    private final MetadataIo io;
    private final Qcow2Metadata meta;
    private final ClusterPlanner planner;
    private final boolean readOnly;
    private final boolean dirtyAtOpen;
    private final ReentrantLock lock = new ReentrantLock();
    private final ClustersInFlight allocating = new ClustersInFlight(lock);
    private volatile @Nullable BackingReader backing;
    private volatile boolean corrupt;
    private boolean closed;

    private Qcow2Image(MetadataIo io, Qcow2Metadata meta, boolean readOnly) {
        this.io = io;
        this.meta = meta;
        this.readOnly = readOnly;
        this.dirtyAtOpen = meta.header().hasIncompatible(FeatureBits.INCOMPAT_DIRTY);
        this.corrupt = meta.header().hasIncompatible(FeatureBits.INCOMPAT_CORRUPT);
        this.planner = new ClusterPlanner(meta, io);
    }

    /** Opens and validates a qcow2 image; a writable open refuses what this engine cannot write safely. */
    public static Qcow2Image open(BlockFile file) {
        MetadataIo io = new MetadataIo(file);
        int probe = (int) Math.min(io.length(), 2 * 1024 * 1024);
        ByteBuffer head = ByteBuffer.allocate(probe);
        io.read(head, 0);
        Qcow2Header header = HeaderParser.parse(head.flip(), io.length());
        boolean readOnly = file.isReadOnly();
        if (!readOnly) {
            WritableFeatures.require(header);
        }
        Qcow2Metadata meta = new Qcow2Metadata(io, header, L2_CACHE_TABLES);
        Qcow2Image image = new Qcow2Image(io, meta, readOnly);
        if (!readOnly && header.autoclearFeatures() != 0) {
            image.clearAutoclearBits();
        }
        if (!readOnly && header.hasIncompatible(FeatureBits.INCOMPAT_DIRTY)) {
            image.repairAndMarkClean();
        }
        return image;
    }

    /** A writer that does not maintain what an autoclear bit vouches for must clear it first. */
    private void clearAutoclearBits() {
        io.writeLong(0, HeaderLayout.AUTOCLEAR_FEATURES);
        io.force();
        meta.replaceHeader(meta.header().toBuilder().autoclearFeatures(0).build());
    }

    /**
     * A dirty image (lazy refcounts, not closed cleanly) may have refcounts lower than its
     * references; QEMU repairs them on a writable open, and so do we, before clearing the bit.
     */
    private void repairAndMarkClean() {
        new RefcountRepair(meta).run();
        long bits = meta.header().incompatibleFeatures() & ~FeatureBits.INCOMPAT_DIRTY;
        io.writeLong(bits, HeaderLayout.INCOMPATIBLE_FEATURES);
        io.force();
        meta.replaceHeader(meta.header().toBuilder().incompatibleFeatures(bits).build());
    }

    // ---------------------------------------------------------------- facts

    @Override
    public ImageFormat format() {
        return ImageFormat.QCOW2;
    }

    @Override
    public Path path() {
        return io.file().path();
    }

    @Override
    public long virtualSize() {
        return meta.header().size();
    }

    @Override
    public int clusterSize() {
        return meta.clusterSize();
    }

    @Override
    public boolean isReadOnly() {
        return readOnly || corrupt;
    }

    @Override
    public Optional<BackingReference> backing() {
        return Optional.ofNullable(meta.header().backingReference());
    }

    @Override
    public ImageDetails details() {
        Qcow2Header h = meta.header();
        long actual = io.length();
        return new ImageDetails(
                h.isV3() ? "1.1" : "0.10",
                h.refcountBits(),
                (h.compatibleFeatures() & FeatureBits.COMPAT_LAZY_REFCOUNTS) != 0,
                dirtyAtOpen,
                h.hasIncompatible(FeatureBits.INCOMPAT_CORRUPT),
                h.compressionType() == 1 ? "zstd" : "zlib",
                h.hasExtendedL2(),
                actual);
    }

    // ---------------------------------------------------------------- reads

    @Override
    public List<Extent> blockStatus(long offset, long length) {
        long end = Math.min(virtualSize(), offset + Math.max(0, length));
        List<Extent> out = new ArrayList<>();
        if (offset < 0 || offset >= end) {
            return out;
        }
        for (ClusterPlanner.Piece p : pieces(offset, end - offset)) {
            Extent e = p.extent();
            if (!out.isEmpty() && out.get(out.size() - 1).continuedBy(e)) {
                out.set(out.size() - 1, out.get(out.size() - 1).extendedBy(e.length()));
            } else {
                out.add(e);
            }
        }
        return out;
    }

    @Override
    public AllocationRun allocationRun(long offset, long length) {
        long end = Math.min(virtualSize(), offset + Math.max(0, length));
        if (offset < 0 || offset >= end) {
            return new AllocationRun(false, 0);
        }
        lock.lock();
        try {
            checkOpen();
            return planner.allocationRun(offset, end - offset);
        } finally {
            lock.unlock();
        }
    }

    private List<ClusterPlanner.Piece> pieces(long offset, long length) {
        lock.lock();
        try {
            checkOpen();
            return planner.pieces(offset, length);
        } finally {
            lock.unlock();
        }
    }

    private ClusterPlanner.Piece piece(long offset, long length) {
        lock.lock();
        try {
            checkOpen();
            return planner.piece(offset, length);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void read(long offset, ByteBuffer dst, ReadHint hint) {
        if (offset < 0) {
            throw new BlockException(BlockErrorKind.INVALID_ARGUMENT, "Negative read offset " + offset);
        }
        long inside = Math.max(0, Math.min(dst.remaining(), virtualSize() - offset));
        int limit = dst.limit();
        for (long pos = offset; pos < offset + inside; ) {
            ClusterPlanner.Piece p = piece(pos, offset + inside - pos);
            dst.limit(dst.position() + (int) p.length());
            readPiece(p, dst, hint);
            dst.limit(limit);
            pos = p.end();
        }
        Zeros.fill(dst);
    }

    private void readPiece(ClusterPlanner.Piece p, ByteBuffer dst, ReadHint hint) {
        switch (p.type()) {
            case NORMAL -> {
                io.read(dst, p.host(), hint);
                Zeros.fill(dst); // a short last cluster of the file reads as zeros
            }
            case COMPRESSED -> {
                byte[] cluster = meta.compressed().read(p.host());
                int inCluster = (int) (p.offset() & (clusterSize() - 1));
                dst.put(cluster, inCluster, (int) p.length());
            }
            default -> Zeros.fill(dst);
        }
    }

    // ---------------------------------------------------------------- writes

    @Override
    public void write(long offset, ByteBuffer src) {
        int length = src.remaining();
        checkWrite(offset, length);
        if (length == 0) {
            return;
        }
        long first = offset >> meta.clusterBits();
        long last = (offset + length - 1) >> meta.clusterBits();
        List<ClusterPlanner.ClusterWrite> plan;
        lock.lock();
        try {
            awaitNotAllocating(first, last);
            plan = markCorruptOnFailure(() -> planner.planWrite(offset, length));
            allocating.addAllocated(plan);
        } finally {
            lock.unlock();
        }
        boolean done = false;
        try {
            planner.writeData(plan, offset, src, backingOrZeros());
            done = true;
        } finally {
            commit(plan, done);
        }
    }

    private void commit(List<ClusterPlanner.ClusterWrite> plan, boolean dataWritten) {
        lock.lock();
        try {
            if (dataWritten) {
                for (ClusterPlanner.ClusterWrite w : plan) {
                    if (w.allocates()) {
                        meta.setEntry(w.guestCluster(), w.host() | L2Entry.COPIED, !w.reusesHost());
                    }
                }
            }
            allocating.removeAllocated(plan);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Metadata found inconsistent while preparing a write makes the image read-only from then on,
     * as QEMU's corrupt bit does, so that nothing more is written on top of the damage.
     */
    private <T> T markCorruptOnFailure(java.util.function.Supplier<T> step) {
        try {
            return step.get();
        } catch (InvalidImageException e) {
            corrupt = true;
            throw e;
        }
    }

    @Override
    public void writeZeroes(long offset, long length, boolean mayUnmap) {
        checkWrite(offset, length);
        int cs = clusterSize();
        long end = offset + length;
        long alignedStart = Math.min(end, (offset + cs - 1) & -(long) cs);
        long alignedEnd = Math.max(alignedStart, end == virtualSize() ? (end + cs - 1) & -(long) cs : end & -(long) cs);
        if (!meta.header().isV3() || alignedStart >= alignedEnd) {
            writeZeroData(offset, length);
            return;
        }
        writeZeroData(offset, alignedStart - offset);
        lock.lock();
        try {
            long first = alignedStart >> meta.clusterBits();
            long last = (alignedEnd >> meta.clusterBits()) - 1;
            awaitNotAllocating(first, last);
            planner.zeroClusters(first, last, mayUnmap);
        } finally {
            lock.unlock();
        }
        if (alignedEnd < end) {
            writeZeroData(alignedEnd, end - alignedEnd);
        }
    }

    private void writeZeroData(long offset, long length) {
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
        long done = 0;
        while (done < length) {
            int n = (int) Math.min(zeros.capacity(), length - done);
            write(offset + done, zeros.clear().limit(n));
            done += n;
        }
    }

    @Override
    public void flush() {
        lock.lock();
        try {
            checkOpen();
            meta.flush();
        } finally {
            lock.unlock();
        }
    }

    /** An extra fdatasync never breaks the ordered flush: it only makes things durable earlier. */
    @Override
    public void writeBack() {
        if (!isReadOnly()) {
            io.force();
        }
    }

    @Override
    public void attachBacking(@Nullable BackingReader reader) {
        this.backing = reader;
    }

    private BackingReader backingOrZeros() {
        BackingReader b = backing;
        return b != null ? b : BackingReader.ZEROS;
    }

    @Override
    public void changeBackingFile(@Nullable BackingReference ref) {
        if (isReadOnly()) {
            throw new BlockException(BlockErrorKind.READ_ONLY, "Block node is read-only");
        }
        lock.lock();
        try {
            checkOpen();
            meta.flush();
            meta.flush(); // the second pass makes the deferred refcount drops durable too
            Qcow2Header next = meta.header()
                    .withBacking(
                            ref == null ? null : ref.fileName(),
                            ref == null || ref.format() == null
                                    ? null
                                    : ref.format().id());
            new HeaderWriter(io).rewrite(next);
            meta.replaceHeader(next);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (!isReadOnly()) {
                meta.flush();
                meta.flush();
            }
        } finally {
            lock.unlock();
            try {
                io.file().close();
            } catch (IOException e) {
                throw new BlockIoException("Close of " + path() + " failed", e);
            }
        }
    }

    private void checkWrite(long offset, long length) {
        if (isReadOnly()) {
            throw new BlockException(BlockErrorKind.READ_ONLY, "Block node is read-only");
        }
        if (offset < 0 || length < 0 || offset + length > virtualSize() || offset + length < 0) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "Write of " + length + " bytes at " + offset + " lies outside the image (" + virtualSize()
                            + " bytes)");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new BlockException(BlockErrorKind.CONFLICT, "Image " + path() + " is closed");
        }
    }

    private void awaitNotAllocating(long first, long last) {
        checkOpen();
        allocating.awaitNoneIn(first, last);
    }
}
