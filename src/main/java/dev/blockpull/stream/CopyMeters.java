package dev.blockpull.stream;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * What the copy loops report: bytes copied by every job since start-up, bytes copied per job
 * (kept while the job is known to the scheduler; the launcher forgets dismissed ones), and
 * copy-request timings passed on to {@link CopyObserver}s.
 */
final class CopyMeters {

    private final LongAdder total = new LongAdder();
    private final Map<String, LongAdder> byJob = new ConcurrentHashMap<>();
    private final List<CopyObserver> observers = new CopyOnWriteArrayList<>();

    long total() {
        return total.sum();
    }

    OptionalLong copied(String jobId) {
        LongAdder a = byJob.get(jobId);
        return a == null ? OptionalLong.empty() : OptionalLong.of(a.sum());
    }

    /** A fresh per-job counter; a reused job id starts again from zero. */
    Job startJob(String jobId) {
        LongAdder a = new LongAdder();
        byJob.put(jobId, a);
        return new Job(a);
    }

    void forgetJobs(Predicate<String> gone) {
        byJob.keySet().removeIf(gone);
    }

    void addObserver(CopyObserver observer) {
        observers.add(observer);
    }

    void removeObserver(CopyObserver observer) {
        observers.remove(observer);
    }

    /** One job's view: its own counter, the total and the observers. */
    final class Job {
        private final LongAdder copied;

        private Job(LongAdder copied) {
            this.copied = copied;
        }

        void copied(long bytes) {
            copied.add(bytes);
            total.add(bytes);
        }

        void timed(long bytes, long nanos) {
            for (CopyObserver o : observers) {
                try {
                    o.copyTimed(bytes, nanos);
                } catch (RuntimeException ignored) {
                    // metrics must never fail a copy
                }
            }
        }
    }
}
