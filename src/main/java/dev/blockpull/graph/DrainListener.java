package dev.blockpull.graph;

/**
 * Observes drained sections, for metrics. Called on the thread that ends a section, after the
 * section's nodes were released; must be quick and should not throw (a throw is ignored).
 */
@FunctionalInterface
public interface DrainListener {

    /**
     * A drained section ended (closed normally, or given up after a timeout).
     *
     * @param nanos time from the section's begin to its end, the wait for quiet included
     */
    void drainEnded(long nanos);
}
