package dev.blockpull.graph;

/**
 * What the health endpoint shows of pending I/O.
 *
 * @param inFlightRequests    requests in flight, summed over all nodes (a request counts on every
 *                            node it is passing through)
 * @param drainsInProgress    drained sections that are still waiting for requests or jobs
 * @param oldestInFlightMillis longest time any node has been busy without a break: an upper bound
 *                            of the oldest request's age
 * @param longestDrainMillis  age of the oldest drain still waiting; 0 when none waits
 */
public record DrainStats(
        int inFlightRequests, int drainsInProgress, long oldestInFlightMillis, long longestDrainMillis) {}
