package dev.blockpull.format.qcow2;

import dev.blockpull.io.InvalidImageException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;
import org.jspecify.annotations.Nullable;

/**
 * Everything of a qcow2 image that describes where guest clusters live: header, L1 table, L2
 * cache, refcounts, allocator. Not thread-safe by itself: {@link Qcow2Image} calls it under its
 * metadata lock. Changes stay in memory until {@link #flush()}, which writes them in the order of
 * qcow2-notes §8.4, so that a crash at any moment leaves at worst leaked clusters.
 */
final class Qcow2Metadata {

    /** A guest cluster's L2 entry as read: the standard word and, for extended L2, the bitmap. */
    private final MetadataIo io;

    private volatile Qcow2Header header;
    private final int clusterBits;
    private final int l2Bits;
    private final boolean extended;
    private final L1Table l1;
    private final L2Cache l2Cache;
    private final RefcountStore refcounts;
    private final ClusterAllocator allocator;
    private final MetadataGuard guard;
    private final CompressedClusterReader compressed;
    private final LongFunction<L2Table> l2Loader = this::loadL2;
    /** References to drop once the pointer changes that removed them are durable (rule R2). */
    private final List<long[]> pendingFrees = new ArrayList<>();

    Qcow2Metadata(MetadataIo io, Qcow2Header header, int l2CacheTables) {
        this.io = io;
        this.header = header;
        this.clusterBits = header.clusterBits();
        this.extended = header.hasExtendedL2();
        this.l2Bits = clusterBits - (extended ? 4 : 3);
        this.guard = new MetadataGuard(clusterBits);
        this.l1 = L1Table.load(io, header);
        this.refcounts = new RefcountStore(io, header, guard);
        this.allocator = new ClusterAllocator(refcounts, this::switchRefcountTable, clusterBits, io.length());
        this.l2Cache = new L2Cache(l2CacheTables, this::flush);
        this.compressed = new CompressedClusterReader(io, clusterBits, header.compressionType());
        guard.add(0, 1, "header");
        guard.addExclusive(
                header.refcountTableOffset(), (long) header.refcountTableClusters() << clusterBits, "refcount table");
        for (long b : refcounts.blockOffsets()) {
            guard.addExclusive(b, 1, "refcount block");
        }
        guard.addExclusive(header.l1TableOffset(), header.l1Size() * 8L, "L1 table");
        for (long e : l1.entries()) {
            long l2 = L2Entry.hostOffset(e);
            if (l2 != 0) {
                guard.checkL2Table(l2);
                guard.add(l2, 1, "L2 table");
            }
        }
    }

    Qcow2Header header() {
        return header;
    }

    void replaceHeader(Qcow2Header h) {
        header = h;
    }

    int clusterBits() {
        return clusterBits;
    }

    int clusterSize() {
        return 1 << clusterBits;
    }

    boolean isExtended() {
        return extended;
    }

    MetadataGuard guard() {
        return guard;
    }

    CompressedClusterReader compressed() {
        return compressed;
    }

    /** Clusters mapped by one L2 table. */
    long l2Entries() {
        return 1L << l2Bits;
    }

    // ---------------------------------------------------------------- lookups

    /**
     * The L2 entry of a guest cluster, 0 where it has no L2 table. Two primitive lookups instead of
     * an (entry, bitmap) pair: the planners ask per cluster, and a pair per cluster was a third of
     * a stream's garbage (JFR, 4 GiB chain). A table is changed in place, word by word, so the
     * pair was never read atomically either.
     */
    long entry(long guestCluster) {
        L2Table t = l2ForRead(guestCluster);
        return t == null ? 0 : t.entry(l2Index(guestCluster));
    }

    /** The subcluster bitmap of a guest cluster of an extended-L2 image; 0 in a standard image. */
    long bitmap(long guestCluster) {
        if (!extended) {
            return 0;
        }
        L2Table t = l2ForRead(guestCluster);
        return t == null ? 0 : t.bitmap(l2Index(guestCluster));
    }

    private int l2Index(long guestCluster) {
        return (int) (guestCluster & (l2Entries() - 1));
    }

    /** Type of a standard entry, or of subcluster {@code sc} of an extended one. */
    ClusterType type(long entry, long bitmap, int sc) {
        return extended ? L2Entry.subclusterType(entry, bitmap, sc) : L2Entry.type(entry, header.isV3());
    }

    /** Validates a data cluster's host offset before it is read or written in place. */
    long dataCluster(long entry) {
        long host = L2Entry.hostOffset(entry);
        if ((host & (clusterSize() - 1)) != 0) {
            throw new InvalidImageException("Cluster allocation offset 0x" + Long.toHexString(host) + " unaligned");
        }
        if (host >= io.length()) {
            throw new InvalidImageException(
                    "Data cluster at 0x" + Long.toHexString(host) + " lies beyond the end of the file");
        }
        return host;
    }

    /** Whether an L2 table maps {@code guestCluster} (else it and its whole L2 range are unallocated). */
    boolean hasL2Table(long guestCluster) {
        long l1Index = guestCluster >>> l2Bits;
        return l1Index < l1.size() && L2Entry.hostOffset(l1.get((int) l1Index)) != 0;
    }

    private @Nullable L2Table l2ForRead(long guestCluster) {
        long l1Index = guestCluster >>> l2Bits;
        if (l1Index >= l1.size()) {
            return null;
        }
        long l2 = L2Entry.hostOffset(l1.get((int) l1Index));
        return l2 == 0 ? null : l2Cache.get(l2, l2Loader);
    }

    private L2Table loadL2(long offset) {
        guard.checkL2Table(offset);
        return L2Table.decode(offset, io.readFully(offset, clusterSize(), "L2 table"), extended);
    }

    // ---------------------------------------------------------------- changes

    long allocate(int clusters) {
        return allocator.allocate(clusters);
    }

    /**
     * Points {@code guestCluster} at {@code entry} (standard L2 only), creating or copying its L2
     * table when needed, and schedules the release of what the old entry referenced.
     */
    void setEntry(long guestCluster, long entry, boolean releaseOld) {
        L2Table t = l2ForWrite(guestCluster);
        int i = l2Index(guestCluster);
        long old = t.entry(i);
        t.setEntry(i, entry);
        if (releaseOld) {
            release(old);
        }
    }

    /** Schedules dropping one reference to what {@code entry} points at (after the next flush of pointers). */
    void release(long entry) {
        ClusterType type = L2Entry.type(entry, header.isV3());
        if (type == ClusterType.COMPRESSED) {
            long[] range = compressed.hostClusterRange(entry);
            pendingFrees.add(range);
        } else if (type == ClusterType.NORMAL || type == ClusterType.ZERO_ALLOC) {
            long c = L2Entry.hostOffset(entry) >> clusterBits;
            pendingFrees.add(new long[] {c, c});
        }
    }

    private L2Table l2ForWrite(long guestCluster) {
        int l1Index = (int) (guestCluster >>> l2Bits);
        long l1e = l1.get(l1Index);
        long old = L2Entry.hostOffset(l1e);
        if (old != 0 && L2Entry.isCopied(l1e)) {
            return l2Cache.get(old, l2Loader);
        }
        long offset = allocator.allocate(1);
        L2Table table = old == 0
                ? L2Table.empty(offset, clusterSize(), extended)
                : l2Cache.get(old, l2Loader).copyTo(offset);
        table.markDirty();
        guard.add(offset, 1, "L2 table");
        l2Cache.put(table);
        l1.set(l1Index, offset | L2Entry.COPIED);
        if (old != 0) {
            long c = old >> clusterBits;
            pendingFrees.add(new long[] {c, c});
        }
        return table;
    }

    RefcountStore refcounts() {
        return refcounts;
    }

    L1Table l1() {
        return l1;
    }

    /** The L2 table at {@code offset}, loaded through the cache; modify it only before the next cache access. */
    L2Table l2Table(long offset) {
        return l2Cache.get(offset, l2Loader);
    }

    void adjustRefcount(long cluster, long delta) {
        refcounts.adjust(cluster, delta, allocator, this::switchRefcountTable);
    }

    // ---------------------------------------------------------------- ordering

    /**
     * The ordered flush: refcount blocks, barrier (data and refcounts durable), new refcount table
     * entries, barrier, L2 tables, barrier, L1 entries, barrier; then the deferred refcount drops.
     */
    void flush() {
        refcounts.writeDirtyBlocks();
        io.force();
        while (refcounts.hasDirtyTableEntries()) {
            refcounts.writeLinkableTableEntries();
            io.force();
        }
        if (l2Cache.hasDirty()) {
            for (L2Table t : l2Cache.tables()) {
                if (t.isDirty()) {
                    io.write(t.encode(), t.offset());
                    t.markClean();
                }
            }
            io.force();
        }
        if (l1.isDirty()) {
            l1.writeDirty(io);
            io.force();
        }
        if (!pendingFrees.isEmpty()) {
            List<long[]> frees = new ArrayList<>(pendingFrees);
            pendingFrees.clear();
            for (long[] range : frees) {
                for (long c = range[0]; c <= range[1]; c++) {
                    refcounts.adjust(c, -1, allocator, this::switchRefcountTable);
                }
            }
        }
    }

    boolean hasUnwrittenChanges() {
        return refcounts.hasDirtyBlocks()
                || refcounts.hasDirtyTableEntries()
                || l2Cache.hasDirty()
                || l1.isDirty()
                || !pendingFrees.isEmpty();
    }

    private void switchRefcountTable(long offset, int clusters) {
        Qcow2Header old = header;
        ByteBuffer b = ByteBuffer.allocate(12).putLong(offset).putInt(clusters).flip();
        io.write(b, HeaderLayout.REFCOUNT_TABLE_OFFSET);
        io.force();
        guard.remove(old.refcountTableOffset(), (long) old.refcountTableClusters() << clusterBits);
        guard.add(offset, (long) clusters << clusterBits, "refcount table");
        header = old.toBuilder().refcountTable(offset, clusters).build();
    }
}
