package dev.blockpull.job;

import dev.blockpull.io.Monitor;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who hears that a job became quiescent ({@link DrainableJob#addQuiescenceListener}). They are
 * told after the outermost unlock of the job's monitor: a drain coordinator asks the job back
 * under its own lock, so telling it under ours would invert the lock order.
 */
final class QuiescenceListeners {

    private static final Logger log = LoggerFactory.getLogger(QuiescenceListeners.class);

    private final String jobId;
    private final Monitor monitor;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    QuiescenceListeners(String jobId, Monitor monitor) {
        this.jobId = jobId;
        this.monitor = monitor;
    }

    void add(Runnable listener) {
        listeners.add(listener);
    }

    /** The job just became quiescent; call with the monitor held. Listeners re-check what they wait for. */
    void announce() {
        if (!listeners.isEmpty()) {
            monitor.afterUnlock(this::tell);
        }
    }

    private void tell() {
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                log.warn("Quiescence listener of job {} failed", jobId, e);
            }
        }
    }
}
