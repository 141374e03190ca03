package dev.blockpull.graph;

import java.util.Collection;

/**
 * Something that issues requests on nodes by itself, such as a block job, and that a drain must
 * bring to a pause point (stream-semantics §8). The job floor implements it: {@link #drainBegin}
 * raises the job's pause counter and wakes it if it sleeps, {@link #isQuiescent} says whether it
 * is parked at a pause point with nothing in flight, {@link #drainEnd} lowers the counter again.
 * A participant that parks calls {@link DrainCoordinator#wakeDrains()} so a waiting drain notices.
 */
public interface DrainParticipant {

    /** The nodes this participant does I/O on; a drain touching any of them waits for it. */
    Collection<? extends BlockNode> drainNodes();

    void drainBegin();

    boolean isQuiescent();

    void drainEnd();
}
