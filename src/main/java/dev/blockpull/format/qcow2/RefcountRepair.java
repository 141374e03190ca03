package dev.blockpull.format.qcow2;

import dev.blockpull.io.InvalidImageException;
import java.util.HashMap;
import java.util.Map;

/**
 * Brings the refcounts of an image back in line with its references, as QEMU does when it opens
 * an image whose dirty bit is set (lazy refcounts, then a crash): every reference is counted
 * from the tables, each differing refcount is set to the count, and COPIED flags are made to
 * agree. Our own writer never defers refcount updates, so afterwards the dirty bit can go.
 */
final class RefcountRepair {

    /** Bounds the work on a hostile image: at most this many distinct referenced clusters. */
    private static final int MAX_TRACKED_CLUSTERS = 16 * 1024 * 1024;

    private final Qcow2Metadata meta;
    private final Map<Long, Long> references = new HashMap<>();

    RefcountRepair(Qcow2Metadata meta) {
        this.meta = meta;
    }

    void run() {
        countReferences();
        java.util.List<Long> unreferenced = new java.util.ArrayList<>();
        meta.refcounts().forEachCounted(c -> {
            if (!references.containsKey(c)) {
                unreferenced.add(c);
            }
        });
        for (long c : unreferenced) {
            meta.adjustRefcount(c, -meta.refcounts().get(c));
        }
        for (Map.Entry<Long, Long> r : references.entrySet()) {
            long have = meta.refcounts().get(r.getKey());
            if (have != r.getValue()) {
                meta.adjustRefcount(r.getKey(), r.getValue() - have);
            }
        }
        fixCopiedFlags();
        meta.flush();
        meta.flush();
    }

    private void countReferences() {
        Qcow2Header h = meta.header();
        int bits = meta.clusterBits();
        count(0, 1);
        countRange(h.refcountTableOffset(), (long) h.refcountTableClusters() << bits);
        for (long b : meta.refcounts().blockOffsets()) {
            count(b >> bits, 1);
        }
        countRange(h.l1TableOffset(), h.l1Size() * 8L);
        long[] l1 = meta.l1().entries();
        java.util.Set<Long> walked = new java.util.HashSet<>();
        for (int i = 0; i < l1.length; i++) {
            long l2 = L2Entry.hostOffset(l1[i]);
            if (l2 == 0) {
                continue;
            }
            if (!walked.add(l2)) {
                // Without snapshots an L2 table has exactly one L1 entry. Re-walking a shared table
                // for each entry would cost L1 size x L2 size steps (2^36 with 2 MiB clusters).
                throw new InvalidImageException("Corrupt image: L2 table at 0x" + Long.toHexString(l2)
                        + " is referenced by more than one L1 entry; run 'qemu-img check -r all' on it");
            }
            count(l2 >> bits, 1);
            L2Table table = meta.l2Table(l2);
            for (int k = 0; k < meta.l2Entries(); k++) {
                long e = table.entry(k);
                switch (L2Entry.type(e, h.isV3())) {
                    case NORMAL, ZERO_ALLOC -> count(L2Entry.hostOffset(e) >> bits, 1);
                    case COMPRESSED -> {
                        long[] r = meta.compressed().hostClusterRange(e);
                        for (long c = r[0]; c <= r[1]; c++) {
                            count(c, 1);
                        }
                    }
                    default -> {}
                }
            }
        }
    }

    private void countRange(long offset, long bytes) {
        if (bytes <= 0) {
            return;
        }
        int bits = meta.clusterBits();
        for (long c = offset >> bits; c <= (offset + bytes - 1) >> bits; c++) {
            count(c, 1);
        }
    }

    private void count(long cluster, long n) {
        references.merge(cluster, n, Long::sum);
        if (references.size() > MAX_TRACKED_CLUSTERS) {
            throw new InvalidImageException(
                    "Image is too large to repair its refcounts here; run 'qemu-img check -r all' on it");
        }
    }

    private void fixCopiedFlags() {
        int bits = meta.clusterBits();
        long[] l1 = meta.l1().entries();
        for (int i = 0; i < l1.length; i++) {
            long l2 = L2Entry.hostOffset(l1[i]);
            if (l2 == 0) {
                continue;
            }
            boolean l2Copied = references.getOrDefault(l2 >> bits, 0L) == 1;
            if (L2Entry.isCopied(l1[i]) != l2Copied) {
                meta.l1().set(i, l2Copied ? l1[i] | L2Entry.COPIED : l1[i] & ~L2Entry.COPIED);
            }
            L2Table table = meta.l2Table(l2);
            for (int k = 0; k < meta.l2Entries(); k++) {
                long e = table.entry(k);
                ClusterType t = L2Entry.type(e, meta.header().isV3());
                if (t != ClusterType.NORMAL && t != ClusterType.ZERO_ALLOC) {
                    continue;
                }
                boolean copied = references.getOrDefault(L2Entry.hostOffset(e) >> bits, 0L) == 1;
                if (L2Entry.isCopied(e) != copied) {
                    table.setEntry(k, copied ? e | L2Entry.COPIED : e & ~L2Entry.COPIED);
                }
            }
        }
    }
}
