package dev.blockpull.format.qcow2;

import dev.blockpull.io.InvalidImageException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The refcount table and a bounded cache of refcount blocks (qcow2-notes §6). Refcounts only
 * ever change under the image's metadata lock. Dirty blocks and table entries are written by
 * {@link #writeDirtyBlocks()} and {@link #writeDirtyTableEntries()}, which the image calls in the
 * order that keeps "refcount never lower than references" true on disk (§8.1).
 */
final class RefcountStore {

    /** Where the store gets fresh clusters for its own blocks and tables: the end of the file. */
    interface ClusterReserve {
        long reserve(int clusters);
    }

    /** Switches the header to a new refcount table, durably. */
    interface TableRelocation {
        void switchTo(long offset, int clusters);
    }

    private static final int CACHE_BLOCKS = 64;

    private final MetadataIo io;
    private final MetadataGuard guard;
    private final int clusterBits;
    private final int order;
    private final int entriesPerBlock;
    private final long refcountMax;
    private long[] table;
    private long tableOffset;
    private final BitSet dirtyTableEntries = new BitSet();
    private final Map<Long, RefcountBlock> blocks = new LinkedHashMap<>(16, 0.75f, true);
    /** The most recently used block: always in {@link #blocks}, as the eviction never takes it. */
    private @Nullable RefcountBlock lastBlock;
    /** Set when relocating the table failed half-way; nothing may be written after that. */
    private @Nullable RuntimeException broken;

    RefcountStore(MetadataIo io, Qcow2Header header, MetadataGuard guard) {
        this.io = io;
        this.guard = guard;
        this.clusterBits = header.clusterBits();
        this.order = header.refcountOrder();
        this.entriesPerBlock = (int) (((long) header.clusterSize() * 8) >>> order);
        this.refcountMax = order == 6 ? Long.MAX_VALUE : (1L << (1 << order)) - 1;
        this.tableOffset = header.refcountTableOffset();
        int entries = header.refcountTableClusters() * (header.clusterSize() / 8);
        ByteBuffer raw = ByteBuffer.wrap(io.readFully(tableOffset, entries * 8, "Refcount table"));
        this.table = new long[entries];
        long fileLength = io.length();
        for (int i = 0; i < entries; i++) {
            long e = raw.getLong(i * 8);
            if ((e & 0x1FFL) != 0) {
                throw new InvalidImageException("Refcount table entry " + i + " has reserved bits set");
            }
            if (e != 0 && ((e & (clusterSize() - 1)) != 0 || e + clusterSize() > fileLength)) {
                throw new InvalidImageException("Refcount block " + i + " at 0x" + Long.toHexString(e)
                        + " is unaligned or beyond the end of the file");
            }
            table[i] = e;
        }
    }

    int clusterSize() {
        return 1 << clusterBits;
    }

    long tableOffset() {
        return tableOffset;
    }

    int tableClusters() {
        return (int) ((table.length * 8L) >> clusterBits);
    }

    long refcountMax() {
        return refcountMax;
    }

    /** Offsets of every refcount block the table points at, for the metadata overlap guard. */
    List<Long> blockOffsets() {
        List<Long> result = new ArrayList<>();
        for (long e : table) {
            if (e != 0) {
                result.add(e);
            }
        }
        return result;
    }

    long get(long cluster) {
        int t = (int) (cluster / entriesPerBlock);
        if (cluster < 0 || t >= table.length || table[t] == 0) {
            return 0;
        }
        return block(table[t]).get((int) (cluster % entriesPerBlock));
    }

    /** Calls {@code action} for every cluster whose stored refcount is not zero, each block read once. */
    void forEachCounted(java.util.function.LongConsumer action) {
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (int t = 0; t < table.length; t++) {
            if (table[t] == 0 || !seen.add(table[t])) {
                continue;
            }
            RefcountBlock b = block(table[t]);
            for (int i = 0; i < entriesPerBlock; i++) {
                if (b.get(i) != 0) {
                    action.accept((long) t * entriesPerBlock + i);
                }
            }
        }
    }

    /** Whether the block covering {@code cluster} exists, so that adjusting it needs no allocation. */
    boolean isCovered(long cluster) {
        int t = (int) (cluster / entriesPerBlock);
        return t < table.length && table[t] != 0;
    }

    /** Adds {@code delta} to the refcount of {@code cluster}, creating its block if needed. */
    void adjust(long cluster, long delta, ClusterReserve reserve, TableRelocation relocation) {
        checkNotBroken();
        ensureBlock(cluster, reserve, relocation);
        int t = (int) (cluster / entriesPerBlock);
        RefcountBlock b = block(table[t]);
        int i = (int) (cluster % entriesPerBlock);
        long next = b.get(i) + delta;
        if (next < 0) {
            throw new InvalidImageException("Refcount of cluster " + cluster + " would drop below zero");
        }
        if (Long.compareUnsigned(next, refcountMax) > 0) {
            throw new InvalidImageException(
                    "Refcount of cluster " + cluster + " would exceed its maximum " + refcountMax);
        }
        b.set(i, next);
    }

    private void ensureBlock(long cluster, ClusterReserve reserve, TableRelocation relocation) {
        long t = cluster / entriesPerBlock;
        if (t >= table.length) {
            growTable(t, reserve, relocation);
        }
        if (table[(int) t] != 0) {
            return;
        }
        long blockCluster = reserve.reserve(1);
        long blockOffset = blockCluster << clusterBits;
        RefcountBlock b = new RefcountBlock(blockOffset, new byte[clusterSize()], order);
        b.markDirty();
        cache(b);
        guard.add(blockOffset, 1, "refcount block");
        table[(int) t] = blockOffset;
        dirtyTableEntries.set((int) t);
        // The new block is counted like any cluster; usually it covers itself.
        adjust(blockCluster, 1, reserve, relocation);
    }

    /**
     * Grows the table as QEMU does (qcow2-notes §6.2 step 3): the new table goes to the end of the
     * file, every block it needs is created there, all is written and flushed, then the header is
     * switched with one durable write, and only then are the old table's clusters released.
     */
    private void growTable(long neededIndex, ClusterReserve reserve, TableRelocation relocation) {
        int perCluster = clusterSize() / 8;
        long wanted = Math.max(neededIndex + 1, table.length + table.length / 2);
        long clusters = (wanted + perCluster - 1) / perCluster;
        if (clusters * clusterSize() > 8L * 1024 * 1024) {
            throw new InvalidImageException("Refcount table would exceed 8 MiB; the image is too large");
        }
        long oldOffset = tableOffset;
        int oldClusters = tableClusters();
        long newTableCluster = reserve.reserve((int) clusters);
        table = java.util.Arrays.copyOf(table, (int) (clusters * perCluster));
        try {
            for (long c = newTableCluster; c < newTableCluster + clusters; c++) {
                adjust(c, 1, reserve, relocation);
            }
            writeDirtyBlocks();
            ByteBuffer buf = ByteBuffer.allocate(table.length * 8);
            for (long e : table) {
                buf.putLong(e);
            }
            io.write(buf.flip(), newTableCluster << clusterBits);
            io.force();
            tableOffset = newTableCluster << clusterBits;
            dirtyTableEntries.clear();
            relocation.switchTo(tableOffset, (int) clusters);
        } catch (RuntimeException e) {
            // The in-memory table is now larger than (or elsewhere than) the one the header names on
            // disk, and after a failed write or flush nobody knows which of the two the disk holds:
            // writing table entries or blocks from here could land on other metadata. Stop writing;
            // the file is in a state a crash could leave, and reopening it re-reads the truth.
            broken = e;
            throw e;
        }
        for (long c = oldOffset >> clusterBits; c < (oldOffset >> clusterBits) + oldClusters; c++) {
            adjust(c, -1, reserve, relocation);
        }
    }

    private RefcountBlock block(long offset) {
        RefcountBlock b = lastBlock;
        if (b != null && b.offset() == offset) {
            return b; // allocation runs stay in one block for long: no boxed key, no LRU reordering
        }
        b = blocks.get(offset);
        if (b == null) {
            b = new RefcountBlock(offset, io.readFully(offset, clusterSize(), "Refcount block"), order);
            cache(b);
        }
        lastBlock = b;
        return b;
    }

    private void cache(RefcountBlock b) {
        blocks.put(b.offset(), b);
        if (blocks.size() > CACHE_BLOCKS) {
            var it = blocks.values().iterator();
            while (blocks.size() > CACHE_BLOCKS && it.hasNext()) {
                RefcountBlock victim = it.next();
                if (victim == b) {
                    continue;
                }
                // Writing a refcount block early is always safe: refcounts only rise before the
                // pointers that use them, and fall only after those pointers are durable.
                writeBlock(victim);
                it.remove();
            }
        }
    }

    boolean hasDirtyBlocks() {
        return blocks.values().stream().anyMatch(RefcountBlock::isDirty);
    }

    boolean hasDirtyTableEntries() {
        return !dirtyTableEntries.isEmpty();
    }

    void writeDirtyBlocks() {
        checkNotBroken();
        for (RefcountBlock b : blocks.values()) {
            writeBlock(b);
        }
    }

    private void writeBlock(RefcountBlock b) {
        if (b.isDirty()) {
            io.write(b.bytes().clone(), b.offset());
            b.markClean();
        }
    }

    /** Writes the table entries of new blocks; call only once those blocks are durable. */
    void writeDirtyTableEntries() {
        checkNotBroken();
        for (int i = dirtyTableEntries.nextSetBit(0); i >= 0; i = dirtyTableEntries.nextSetBit(i + 1)) {
            io.writeLong(table[i], tableOffset + i * 8L);
        }
        dirtyTableEntries.clear();
    }

    /**
     * Writes the table entries of the new blocks that can be linked now: a block whose own
     * refcount lives in a block that is itself still unlinked must wait until that one is durably
     * linked (rule R1: the refcount of a refcount block must be reachable before the pointer to
     * it is). The caller forces after each call and calls again while entries remain.
     */
    void writeLinkableTableEntries() {
        checkNotBroken();
        java.util.BitSet ready = new java.util.BitSet();
        for (int i = dirtyTableEntries.nextSetBit(0); i >= 0; i = dirtyTableEntries.nextSetBit(i + 1)) {
            int holder = (int) ((table[i] >>> clusterBits) / entriesPerBlock);
            if (holder == i || !dirtyTableEntries.get(holder)) {
                ready.set(i);
            }
        }
        if (ready.isEmpty()) {
            ready.or(dirtyTableEntries); // a cycle cannot come from the append-only allocator
        }
        for (int i = ready.nextSetBit(0); i >= 0; i = ready.nextSetBit(i + 1)) {
            io.writeLong(table[i], tableOffset + i * 8L);
        }
        dirtyTableEntries.andNot(ready);
    }

    private void checkNotBroken() {
        if (broken != null) {
            throw new dev.blockpull.io.BlockException(
                    dev.blockpull.io.BlockErrorKind.IO_ERROR,
                    "Growing the refcount table failed earlier (" + broken.getMessage() + "); the image "
                            + "must be closed and reopened before it is written again",
                    broken);
        }
    }
}
