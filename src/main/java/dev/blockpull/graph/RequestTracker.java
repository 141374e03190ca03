package dev.blockpull.graph;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Requests in flight on one node, and whether the node is inside a drained section. Counting is
 * two atomic operations per request and allocates nothing. New external requests wait at the door
 * while the node is drained; requests already admitted (and their descent into children) go on,
 * so that a drain can wait for them.
 *
 * <p>Admission and drain meet like Dekker's algorithm: a request increments the count and then
 * reads the drained counter, a drain raises the drained counter and then reads the count (all
 * volatile), so either the drain sees the request and waits for it, or the request sees the drain
 * and steps back.
 */
public final class RequestTracker {

    private final DrainCoordinator coordinator;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** When the count last went from 0 to 1: the age of the oldest request is at most this old. */
    private volatile long busySinceNanos;
    /** Drained sections covering the node; changed only under the coordinator's lock. */
    private volatile int drained;

    RequestTracker(DrainCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    /** An internal request (a parent's request descending, or one already admitted) starts. */
    void begin() {
        if (inFlight.getAndIncrement() == 0) {
            busySinceNanos = System.nanoTime();
        }
    }

    void end() {
        if (inFlight.decrementAndGet() == 0 && drained > 0) {
            coordinator.wakeDrains();
        }
    }

    /**
     * An external request enters: waits while the node is drained, unless {@code queueWhileDrained}
     * is false (a job's own attachment must not wait for the drain that waits for the job).
     */
    void admit(boolean queueWhileDrained) {
        if (!queueWhileDrained) {
            begin();
            return;
        }
        while (true) {
            if (drained == 0) {
                begin();
                if (drained == 0) {
                    return;
                }
                end();
            }
            coordinator.awaitUndrained(this);
        }
    }

    public int inFlight() {
        return Math.max(0, inFlight.get());
    }

    /** Milliseconds the node has had requests in flight without a break; 0 when idle. */
    public long busyMillis() {
        if (inFlight.get() <= 0) {
            return 0;
        }
        return Math.max(0, (System.nanoTime() - busySinceNanos) / 1_000_000);
    }

    public boolean isDrained() {
        return drained > 0;
    }

    void enterDrain() {
        drained++;
    }

    void leaveDrain() {
        drained--;
    }
}
