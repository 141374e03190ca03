package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * Drained sections (stream-semantics §8): a drain stops new external requests on a set of nodes,
 * asks the participants using them to pause, and waits until nothing is in flight there and every
 * such participant is parked. Sections nest through per-node counters; ending the last one lets
 * the queued requests in and the participants resume.
 */
public final class DrainCoordinator {

    /**
     * Waiters re-check at least this often, so a participant that parks without calling
     * {@link #wakeDrains()} delays a drain a little but never forever.
     */
    private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<DrainParticipant> participants = new CopyOnWriteArrayList<>();
    /** Sections still waiting for their nodes to become quiet, with their start times. Guarded by lock. */
    private final List<Section> waiting = new ArrayList<>();

    private final List<DrainListener> listeners = new CopyOnWriteArrayList<>();

    /** A participant is registered until the returned handle is closed. */
    public Registration register(DrainParticipant participant) {
        participants.add(participant);
        return () -> participants.remove(participant);
    }

    /** A listener is told of every section that ends until the returned handle is closed. */
    public Registration addListener(DrainListener listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** A registration; closing it is idempotent. */
    @FunctionalInterface
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /** Wakes drains waiting for requests or participants; participants call it when they park. */
    public void wakeDrains() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Begins a drained section over {@code nodes} and waits until it holds, at most {@code maxWait}
     * (null: without limit, as QEMU does).
     *
     * @param self a participant that drains nodes it uses itself (a job in its completion); it
     *             is neither paused nor waited for
     * @throws DrainTimeoutException when {@code maxWait} passes first; the section is ended then
     */
    DrainedSection begin(Set<BlockNode> nodes, @Nullable DrainParticipant self, @Nullable Duration maxWait) {
        Section section = new Section(nodes, System.nanoTime());
        List<DrainParticipant> paused = new ArrayList<>();
        lock.lock();
        try {
            for (BlockNode n : section.nodes) {
                n.requests().enterDrain();
            }
            waiting.add(section);
        } finally {
            lock.unlock();
        }
        DrainedSection drained = new DrainedSection(this, section, paused);
        boolean held = false;
        try {
            for (DrainParticipant p : participants) {
                if (p != self && touches(p, nodes)) {
                    p.drainBegin();
                    paused.add(p);
                }
            }
            awaitQuiet(section, paused, maxWait);
            held = true;
            return drained;
        } finally {
            lock.lock();
            try {
                waiting.remove(section);
            } finally {
                lock.unlock();
            }
            if (!held) {
                drained.close();
            }
        }
    }

    private void awaitQuiet(Section section, List<DrainParticipant> paused, @Nullable Duration maxWait) {
        long deadline = maxWait == null ? Long.MAX_VALUE : section.startNanos + maxWait.toNanos();
        lock.lock();
        try {
            while (!isQuiet(section, paused)) {
                long left = deadline - System.nanoTime();
                if (maxWait != null && left <= 0) {
                    throw new DrainTimeoutException(section.describeBusy(), maxWait);
                }
                changed.awaitNanos(Math.min(left, RECHECK_NANOS));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BlockException(BlockErrorKind.CONFLICT, "Interrupted while draining " + section.describe(), e);
        } finally {
            lock.unlock();
        }
    }

    private static boolean isQuiet(Section section, List<DrainParticipant> paused) {
        for (BlockNode n : section.nodes) {
            if (n.requests().inFlight() > 0) {
                return false;
            }
        }
        for (DrainParticipant p : paused) {
            if (!p.isQuiescent()) {
                return false;
            }
        }
        return true;
    }

    void end(Section section, List<DrainParticipant> paused) {
        lock.lock();
        try {
            for (BlockNode n : section.nodes) {
                n.requests().leaveDrain();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        for (DrainParticipant p : paused) {
            p.drainEnd();
        }
        long nanos = System.nanoTime() - section.startNanos;
        for (DrainListener l : listeners) {
            try {
                l.drainEnded(nanos);
            } catch (RuntimeException ignored) {
                // metrics must never break a graph change
            }
        }
    }

    /** An external request waits here while its node is drained. */
    void awaitUndrained(RequestTracker tracker) {
        lock.lock();
        try {
            while (tracker.isDrained()) {
                changed.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    /** How many drains are waiting, and for how long the oldest has waited. */
    int drainsInProgress() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    long longestDrainMillis() {
        lock.lock();
        try {
            long now = System.nanoTime();
            long oldest = 0;
            for (Section s : waiting) {
                oldest = Math.max(oldest, (now - s.startNanos) / 1_000_000);
            }
            return oldest;
        } finally {
            lock.unlock();
        }
    }

    private static boolean touches(DrainParticipant p, Set<BlockNode> nodes) {
        Collection<? extends BlockNode> used = p.drainNodes();
        for (BlockNode n : used) {
            if (nodes.contains(n)) {
                return true;
            }
        }
        return false;
    }

    /** A node created inside a section (an inserted filter) joins it, drained like the others. */
    void join(Section section, BlockNode node) {
        lock.lock();
        try {
            node.requests().enterDrain();
            section.nodes.add(node);
        } finally {
            lock.unlock();
        }
    }

    /** The nodes of one drained section; nodes created inside it join it. */
    static final class Section {
        final List<BlockNode> nodes;
        final long startNanos;

        Section(Set<BlockNode> nodes, long startNanos) {
            this.nodes = new CopyOnWriteArrayList<>(nodes);
            this.startNanos = startNanos;
        }

        List<BlockNode> nodes() {
            return List.copyOf(nodes);
        }

        String describe() {
            return nodes.stream().map(BlockNode::name).toList().toString();
        }

        String describeBusy() {
            int requests = nodes.stream().mapToInt(n -> n.requests().inFlight()).sum();
            return requests + " request(s) in flight on " + describe();
        }
    }
}
