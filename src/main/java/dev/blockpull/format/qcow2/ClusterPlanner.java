package dev.blockpull.format.qcow2;

import dev.blockpull.format.AllocationRun;
import dev.blockpull.format.BackingReader;
import dev.blockpull.format.Extent;
import dev.blockpull.format.ExtentKind;
import dev.blockpull.io.InvalidImageException;
import dev.blockpull.io.Zeros;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns guest ranges into cluster-level work: the pieces a read or block-status query is made
 * of, the plan of a write (which clusters are overwritten in place, which need a new host
 * cluster), the data writes of that plan, and zero-cluster updates. Lookups and allocations run
 * under the image's lock; {@link #writeData} runs outside it.
 */
final class ClusterPlanner {

    /**
     * A run of guest bytes of one type. {@code host} is the host offset of the first byte for
     * NORMAL and ZERO_ALLOC runs, and the L2 entry for a COMPRESSED run (never merged).
     */
    record Piece(long offset, long length, ClusterType type, long host) {
        long end() {
            return offset + length;
        }

        /** What block status reports for this piece. */
        Extent extent() {
            return new Extent(offset, length, kind(), hostOffset());
        }

        private ExtentKind kind() {
            return switch (type) {
                case NORMAL, COMPRESSED -> ExtentKind.DATA;
                case ZERO_ALLOC, ZERO_PLAIN -> ExtentKind.ZERO;
                case UNALLOCATED_ALLOC, UNALLOCATED_PLAIN -> ExtentKind.UNALLOCATED;
            };
        }

        private long hostOffset() {
            return switch (type) {
                // QEMU sets BDRV_BLOCK_OFFSET_VALID for UNALLOCATED_ALLOC subclusters too (qcow2-notes §7.1)
                case NORMAL, ZERO_ALLOC, UNALLOCATED_ALLOC -> host;
                default -> Extent.NO_HOST_OFFSET;
            };
        }
    }

    /**
     * What a write does to one guest cluster: overwrite {@code host} in place, or (when
     * {@code allocates}) fill the new host cluster {@code host} whole, starting from what the
     * cluster read as before ({@code oldType}/{@code oldEntry}).
     */
    record ClusterWrite(
            long guestCluster, ClusterType oldType, long oldEntry, long host, boolean allocates, boolean reusesHost) {}

    private final Qcow2Metadata meta;
    private final MetadataIo io;

    ClusterPlanner(Qcow2Metadata meta, MetadataIo io) {
        this.meta = meta;
        this.io = io;
    }

    // ---------------------------------------------------------------- reading

    /** The runs of one type each that {@code [offset, offset + length)} is made of, in order. */
    List<Piece> pieces(long offset, long length) {
        List<Piece> out = new ArrayList<>();
        long end = offset + length;
        for (long pos = offset; pos < end; ) {
            Piece p = piece(pos, end - pos);
            out.add(p);
            pos = p.end();
        }
        return out;
    }

    /**
     * The first run of {@link #pieces}: the longest run of one type (and, where it has a host
     * offset, contiguous on the host) starting at {@code offset}, found without building the
     * per-cluster pieces, so a read or a status query costs one object per run, not per cluster.
     */
    Piece piece(long offset, long length) {
        int bits = meta.clusterBits();
        long end = offset + length;
        long gc = offset >>> bits;
        if (!meta.hasL2Table(gc)) {
            return new Piece(offset, unallocatedEnd(offset, end) - offset, ClusterType.UNALLOCATED_PLAIN, 0);
        }
        long entry = meta.entry(gc);
        ClusterType type = meta.type(entry, meta.bitmap(gc), subcluster(offset));
        if (type == ClusterType.UNALLOCATED_PLAIN) {
            return new Piece(offset, unallocatedEnd(offset, end) - offset, type, 0);
        }
        if (type == ClusterType.COMPRESSED) {
            return new Piece(offset, subclusterEnd(offset, end) - offset, type, entry);
        }
        long host = hasHost(type) ? clusterHost(entry, type) + (offset - (gc << bits)) : 0;
        return new Piece(offset, runEnd(type, host - offset, subclusterEnd(offset, end), end) - offset, type, host);
    }

    /**
     * Where a run of {@code type} that reaches {@code pos} ends: subclusters of the same type
     * follow, and where the type has a host offset, at {@code guest + hostMinusGuest} on the host.
     */
    private long runEnd(ClusterType type, long hostMinusGuest, long pos, long end) {
        int bits = meta.clusterBits();
        boolean hosted = hasHost(type);
        while (pos < end) {
            long gc = pos >>> bits;
            if (!meta.hasL2Table(gc)) {
                return pos;
            }
            long entry = meta.entry(gc);
            long bitmap = meta.bitmap(gc);
            long clusterStart = gc << bits;
            long clusterEnd = Math.min(end, clusterStart + (1L << bits));
            boolean hostChecked = !hosted;
            while (pos < clusterEnd) {
                if (meta.type(entry, bitmap, subcluster(pos)) != type) {
                    return pos;
                }
                if (!hostChecked) {
                    if (clusterHost(entry, type) - clusterStart != hostMinusGuest) {
                        return pos;
                    }
                    hostChecked = true;
                }
                pos = subclusterEnd(pos, end);
            }
        }
        return pos;
    }

    /** Where a run of plain-unallocated bytes from {@code pos} ends: whole tables missing, or entries. */
    private long unallocatedEnd(long pos, long end) {
        int bits = meta.clusterBits();
        long l2Span = meta.l2Entries() << bits;
        while (pos < end) {
            long gc = pos >>> bits;
            if (!meta.hasL2Table(gc)) {
                // No L2 table: the whole range it would map is unallocated. One step per table, not
                // per cluster, so a huge sparse guest costs time in proportion to its L1 (§11).
                pos = Math.min(end, (pos / l2Span + 1) * l2Span);
            } else if (meta.type(meta.entry(gc), meta.bitmap(gc), subcluster(pos)) == ClusterType.UNALLOCATED_PLAIN) {
                pos = subclusterEnd(pos, end);
            } else {
                return pos;
            }
        }
        return pos;
    }

    private static boolean hasHost(ClusterType type) {
        return type == ClusterType.NORMAL || type == ClusterType.ZERO_ALLOC || type == ClusterType.UNALLOCATED_ALLOC;
    }

    /** The host offset of a cluster of a type that has one ({@link #hasHost}). */
    private long clusterHost(long entry, ClusterType type) {
        return type == ClusterType.NORMAL ? meta.dataCluster(entry) : L2Entry.hostOffset(entry);
    }

    private int subcluster(long pos) {
        int bits = meta.clusterBits();
        int subBits = meta.isExtended() ? bits - 5 : bits;
        return (int) ((pos & ((1L << bits) - 1)) >>> subBits);
    }

    /** The end of the subcluster holding {@code pos}, at most {@code end}. */
    private long subclusterEnd(long pos, long end) {
        int subBits = meta.isExtended() ? meta.clusterBits() - 5 : meta.clusterBits();
        return Math.min(end, ((pos >>> subBits) + 1) << subBits);
    }

    /** The first run of {@link #pieces} by allocation alone, found without building the pieces. */
    AllocationRun allocationRun(long offset, long length) {
        int bits = meta.clusterBits();
        long end = offset + length;
        long pos = offset;
        boolean allocated = isAllocatedAt(pos);
        while (pos < end) {
            long gc = pos >>> bits;
            if (!meta.hasL2Table(gc)) {
                if (allocated) {
                    break;
                }
                long l2Span = meta.l2Entries() << bits;
                pos = Math.min(end, (pos / l2Span + 1) * l2Span);
                continue;
            }
            long entry = meta.entry(gc);
            long bitmap = meta.bitmap(gc);
            long clusterEnd = Math.min(end, (gc + 1) << bits);
            while (pos < clusterEnd) {
                if (isAllocated(meta.type(entry, bitmap, subcluster(pos))) != allocated) {
                    return new AllocationRun(allocated, pos - offset);
                }
                pos = subclusterEnd(pos, clusterEnd);
            }
        }
        return new AllocationRun(allocated, pos - offset);
    }

    private boolean isAllocatedAt(long pos) {
        long gc = pos >>> meta.clusterBits();
        return meta.hasL2Table(gc) && isAllocated(meta.type(meta.entry(gc), meta.bitmap(gc), subcluster(pos)));
    }

    private static boolean isAllocated(ClusterType type) {
        return type != ClusterType.UNALLOCATED_PLAIN && type != ClusterType.UNALLOCATED_ALLOC;
    }

    // ---------------------------------------------------------------- writing

    /**
     * Decides per cluster, and allocates host clusters for those that need one, in contiguous
     * runs. Every in-place target is checked before anything is allocated, so a refused write
     * leaks no cluster; each cluster then gets one record.
     */
    List<ClusterWrite> planWrite(long offset, int length) {
        int bits = meta.clusterBits();
        long first = offset >>> bits;
        long last = (offset + length - 1) >>> bits;
        for (long gc = first; gc <= last; gc++) {
            long entry = meta.entry(gc);
            if (overwritesInPlace(entry)) {
                meta.guard().checkDataWrite(meta.dataCluster(entry));
            }
        }
        List<ClusterWrite> plan = new ArrayList<>((int) (last - first + 1));
        long runStart = -1;
        for (long gc = first; gc <= last; gc++) {
            long entry = meta.entry(gc);
            if (!overwritesInPlace(entry)) {
                runStart = runStart < 0 ? gc : runStart;
                continue;
            }
            if (runStart >= 0) {
                addAllocatedRun(plan, runStart, gc);
                runStart = -1;
            }
            ClusterType type = L2Entry.type(entry, meta.header().isV3());
            // a preallocated zero cluster is filled in place, like a new one (its old content is zeros)
            boolean zeroAlloc = type == ClusterType.ZERO_ALLOC;
            plan.add(new ClusterWrite(gc, type, entry, meta.dataCluster(entry), zeroAlloc, zeroAlloc));
        }
        if (runStart >= 0) {
            addAllocatedRun(plan, runStart, last + 1);
        }
        return plan;
    }

    /** A cluster this image owns alone (COPIED) whose host cluster a write fills in place. */
    private boolean overwritesInPlace(long entry) {
        ClusterType type = L2Entry.type(entry, meta.header().isV3());
        return (type == ClusterType.NORMAL || type == ClusterType.ZERO_ALLOC) && L2Entry.isCopied(entry);
    }

    /** Allocates host clusters for guest clusters {@code [from, to)} in one contiguous run. */
    private void addAllocatedRun(List<ClusterWrite> plan, long from, long to) {
        long host = meta.allocate((int) (to - from));
        int cs = meta.clusterSize();
        for (long gc = from; gc < to; gc++) {
            long entry = meta.entry(gc);
            ClusterType type = L2Entry.type(entry, meta.header().isV3());
            plan.add(new ClusterWrite(gc, type, entry, host + (gc - from) * cs, true, false));
        }
    }

    /**
     * Writes the data of a plan with as few calls as the host layout allows: bytes that go
     * straight from {@code src} to host-contiguous places are one write; a partially written new
     * cluster is completed from its old content (or the backing) and written whole.
     */
    void writeData(List<ClusterWrite> plan, long offset, ByteBuffer src, BackingReader backing) {
        int bits = meta.clusterBits();
        int cs = 1 << bits;
        long end = offset + src.remaining();
        int base = src.position();
        long runHost = -1;
        long runGuest = 0;
        long runLength = 0;
        for (ClusterWrite w : plan) {
            long clusterStart = w.guestCluster() << bits;
            long segStart = Math.max(offset, clusterStart);
            long segEnd = Math.min(end, clusterStart + cs);
            boolean whole = segStart == clusterStart && segEnd == clusterStart + cs;
            if (w.allocates() && !whole) {
                flushRun(src, base, offset, runGuest, runHost, runLength);
                runLength = 0;
                ByteBuffer cluster = oldContent(w, clusterStart, backing);
                cluster.put((int) (segStart - clusterStart), src, base + (int) (segStart - offset), (int)
                        (segEnd - segStart));
                io.write(cluster.clear(), w.host());
                continue;
            }
            long host = w.host() + (segStart - clusterStart);
            if (runLength > 0 && runHost + runLength == host) {
                runLength += segEnd - segStart;
            } else {
                flushRun(src, base, offset, runGuest, runHost, runLength);
                runHost = host;
                runGuest = segStart;
                runLength = segEnd - segStart;
            }
        }
        flushRun(src, base, offset, runGuest, runHost, runLength);
        src.position(src.limit());
    }

    private void flushRun(ByteBuffer src, int base, long offset, long guest, long host, long length) {
        if (length > 0) {
            io.write(src.slice(base + (int) (guest - offset), (int) length), host);
        }
    }

    /** What a cluster read as before this write: the starting point for a partial overwrite. */
    private ByteBuffer oldContent(ClusterWrite w, long clusterStart, BackingReader backing) {
        int cs = meta.clusterSize();
        ByteBuffer buf = ByteBuffer.allocate(cs);
        switch (w.oldType()) {
            case NORMAL -> {
                io.read(buf, meta.dataCluster(w.oldEntry()));
                Zeros.fill(buf);
            }
            case COMPRESSED -> buf.put(meta.compressed().read(w.oldEntry()));
            case UNALLOCATED_PLAIN, UNALLOCATED_ALLOC -> {
                long inside = Math.max(0, Math.min(cs, meta.header().size() - clusterStart));
                buf.limit((int) inside);
                backing.read(clusterStart, buf);
                buf.limit(cs);
                Zeros.fill(buf);
            }
            default -> Zeros.fill(buf);
        }
        return buf.clear();
    }

    // ---------------------------------------------------------------- zeroing

    /** Makes whole clusters read as zeros with the v3 zero flag. */
    void zeroClusters(long first, long last, boolean mayUnmap) {
        for (long gc = first; gc <= last; gc++) {
            long entry = meta.entry(gc);
            ClusterType type = L2Entry.type(entry, true);
            switch (type) {
                case ZERO_PLAIN -> {}
                case UNALLOCATED_PLAIN, UNALLOCATED_ALLOC -> meta.setEntry(gc, L2Entry.ZERO, false);
                case NORMAL -> {
                    if (L2Entry.isCopied(entry) && !mayUnmap) {
                        meta.setEntry(gc, L2Entry.hostOffset(entry) | L2Entry.COPIED | L2Entry.ZERO, false);
                    } else {
                        meta.setEntry(gc, L2Entry.ZERO, true);
                    }
                }
                case ZERO_ALLOC -> {
                    if (mayUnmap) {
                        meta.setEntry(gc, L2Entry.ZERO, true);
                    }
                }
                case COMPRESSED -> meta.setEntry(gc, L2Entry.ZERO, true);
                default -> throw new InvalidImageException("Unexpected cluster type " + type);
            }
        }
    }
}
