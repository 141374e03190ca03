package dev.blockpull.format.qcow2;

/**
 * Hands out host clusters at the end of the file (qcow2-notes §6.2, "simpler policy"). Clusters
 * freed inside the file are never reused, so a cluster whose last reference was dropped can never
 * be handed out again while some stale pointer to it may still be on disk. Call under the image's
 * metadata lock.
 */
final class ClusterAllocator implements RefcountStore.ClusterReserve {

    private final RefcountStore refcounts;
    private final RefcountStore.TableRelocation relocation;
    private final int clusterBits;
    private long nextFree;

    ClusterAllocator(
            RefcountStore refcounts, RefcountStore.TableRelocation relocation, int clusterBits, long fileLength) {
        this.refcounts = refcounts;
        this.relocation = relocation;
        this.clusterBits = clusterBits;
        long clusterSize = 1L << clusterBits;
        this.nextFree = Math.max(1, (fileLength + clusterSize - 1) >> clusterBits);
    }

    /** Reserves clusters without counting them: for refcount metadata, which counts itself. */
    @Override
    public long reserve(int clusters) {
        long start = nextFree;
        nextFree += clusters;
        return start;
    }

    /** Allocates {@code clusters} contiguous clusters with refcount 1; returns the first host offset. */
    long allocate(int clusters) {
        while (true) {
            long start = nextFree;
            long busy = firstInUse(start, clusters);
            if (busy >= 0) {
                // A refcount past the end of the file: a leak claimed by a damaged image. Step over it.
                nextFree = busy + 1;
                continue;
            }
            for (long c = start; c < start + clusters; c++) {
                if (!refcounts.isCovered(c)) {
                    refcounts.adjust(c, 0, this, relocation);
                }
            }
            if (nextFree != start) {
                continue; // new refcount blocks took the space we had chosen
            }
            nextFree = start + clusters;
            for (long c = start; c < start + clusters; c++) {
                refcounts.adjust(c, 1, this, relocation);
            }
            return start << clusterBits;
        }
    }

    private long firstInUse(long start, int clusters) {
        for (long c = start; c < start + clusters; c++) {
            if (refcounts.get(c) != 0) {
                return c;
            }
        }
        return -1;
    }
}
