package dev.blockpull.format.qcow2;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Guest clusters whose new host cluster is being written outside the image's lock: an
 * overlapping write or zeroing waits until their L2 entries are set, instead of allocating them
 * twice. Every method runs with the image's lock held. The plans themselves are kept (a few, one
 * per write in flight), not a set of cluster numbers, so tracking costs no object per cluster.
 */
final class ClustersInFlight {

    private final List<List<ClusterPlanner.ClusterWrite>> plans = new ArrayList<>();
    private final Condition changed;

    ClustersInFlight(ReentrantLock imageLock) {
        this.changed = imageLock.newCondition();
    }

    void addAllocated(List<ClusterPlanner.ClusterWrite> plan) {
        plans.add(plan);
    }

    /** After the write's L2 entries are set (or its data failed): waiters look again. */
    void removeAllocated(List<ClusterPlanner.ClusterWrite> plan) {
        for (int i = plans.size() - 1; i >= 0; i--) {
            if (plans.get(i) == plan) {
                plans.remove(i);
                break;
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
        for (List<ClusterPlanner.ClusterWrite> plan : plans) {
            // a plan covers consecutive guest clusters: skip it whole when its span misses
            if (plan.get(0).guestCluster() > last || plan.get(plan.size() - 1).guestCluster() < first) {
                continue;
            }
            for (ClusterPlanner.ClusterWrite w : plan) {
                long c = w.guestCluster();
                if (w.allocates() && c >= first && c <= last) {
                    return true;
                }
            }
        }
        return false;
    }
}
