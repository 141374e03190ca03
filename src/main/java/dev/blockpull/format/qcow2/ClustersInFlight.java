package dev.blockpull.format.qcow2;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Guest clusters whose new host cluster is being written outside the image's lock: an
 * overlapping write or zeroing waits until their L2 entries are set, instead of allocating them
 * twice. Every method runs with the image's lock held.
 */
final class ClustersInFlight {

    private final Set<Long> clusters = new HashSet<>();
    private final Condition changed;

    ClustersInFlight(ReentrantLock imageLock) {
        this.changed = imageLock.newCondition();
    }

    void addAllocated(List<ClusterPlanner.ClusterWrite> plan) {
        for (ClusterPlanner.ClusterWrite w : plan) {
            if (w.allocates()) {
                clusters.add(w.guestCluster());
            }
        }
    }

    /** After the write's L2 entries are set (or its data failed): waiters look again. */
    void removeAllocated(List<ClusterPlanner.ClusterWrite> plan) {
        for (ClusterPlanner.ClusterWrite w : plan) {
            if (w.allocates()) {
                clusters.remove(w.guestCluster());
            }
        }
        changed.signalAll();
    }

    /** Waits until no cluster from {@code first} to {@code last} (inclusive) is in flight. */
    void awaitNoneIn(long first, long last) {
        while (overlaps(first, last)) {
            changed.awaitUninterruptibly();
        }
    }

    private boolean overlaps(long first, long last) {
        if (clusters.isEmpty()) {
            return false;
        }
        if (last - first < clusters.size()) {
            for (long c = first; c <= last; c++) {
                if (clusters.contains(c)) {
                    return true;
                }
            }
            return false;
        }
        return clusters.stream().anyMatch(c -> c >= first && c <= last);
    }
}
