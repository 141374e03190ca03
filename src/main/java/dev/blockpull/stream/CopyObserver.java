package dev.blockpull.stream;

/**
 * Observes a stream job's copy requests, for metrics: one call per prefetch (a merged run of
 * chunks, or one chunk when a run is retried chunk by chunk), failed ones included. Called on the
 * job's thread or a copier thread; must be quick and should not throw (a throw is ignored).
 */
@FunctionalInterface
public interface CopyObserver {

    /**
     * @param bytes length of the copy request
     * @param nanos how long the prefetch took
     */
    void copyTimed(long bytes, long nanos);
}
