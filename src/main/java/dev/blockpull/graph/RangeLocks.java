package dev.blockpull.graph;

import java.util.ArrayList;
import java.util.List;

/**
 * Serialises overlapping requests on byte ranges (cluster-aligned by the caller), so that a
 * copy-on-read and a guest write of the same cluster never interleave (design.md, "Rules that
 * keep data safe"). Only used while a copy-on-read filter sits on the node.
 */
final class RangeLocks {

    /** A held range; released by identity, once. */
    final class Range implements AutoCloseable {
        final long start;
        final long end;

        Range(long start, long end) {
            this.start = start;
            this.end = end;
        }

        @Override
        public void close() {
            unlock(this);
        }
    }

    private final List<Range> held = new ArrayList<>();

    synchronized Range lock(long start, long end) {
        boolean interrupted = false;
        while (overlaps(start, end)) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true; // finish the wait: the caller's I/O must not run unserialised
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Range r = new Range(start, end);
        held.add(r);
        return r;
    }

    synchronized void unlock(Range r) {
        for (int i = 0; i < held.size(); i++) {
            if (held.get(i) == r) {
                held.remove(i);
                break;
            }
        }
        notifyAll();
    }

    private boolean overlaps(long start, long end) {
        for (Range r : held) {
            if (r.start < end && start < r.end) {
                return true;
            }
        }
        return false;
    }
}
