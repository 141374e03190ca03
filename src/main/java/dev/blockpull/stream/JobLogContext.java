package dev.blockpull.stream;

import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

/**
 * A job's logging context (its MDC entries), put on another thread for the time of one action:
 * what a copier or a caller's thread logs for the job then names the job and its node.
 */
record JobLogContext(Map<String, String> entries) {

    JobLogContext {
        entries = Map.copyOf(entries);
    }

    static JobLogContext of(String jobId, String node) {
        return new JobLogContext(Map.of("jobId", jobId, "node", node));
    }

    static JobLogContext ofCurrentThread() {
        Map<String, String> current = MDC.getCopyOfContextMap();
        return new JobLogContext(current == null ? Map.of() : current);
    }

    /** Runs the action with these entries in the MDC; the thread's own entries come back after it. */
    void run(Runnable action) {
        Map<String, @Nullable String> previous = new HashMap<>();
        entries.forEach((key, value) -> {
            previous.put(key, MDC.get(key));
            MDC.put(key, value);
        });
        try {
            action.run();
        } finally {
            previous.forEach(JobLogContext::restore);
        }
    }

    private static void restore(String key, @Nullable String value) {
        if (value == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, value);
        }
    }
}
