package dev.blockpull.stream;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * What the copy loops report: bytes copied by every job since start-up, bytes copied per job
 * (kept while the job is known to the scheduler; the launcher forgets dismissed ones), the
 * throughput of recent runs (a dry run's estimate), and copy-request timings passed on to
 * {@link CopyObserver}s.
 */
final class CopyMeters {

    private final LongAdder total = new LongAdder();
    private final Map<String, LongAdder> byJob = new ConcurrentHashMap<>();
    private final List<CopyObserver> observers = new CopyOnWriteArrayList<>();
    /** Recent unlimited runs, oldest first. */
    private final ArrayDeque<Run> recentRuns = new ArrayDeque<>();

    static final int RECENT_RUNS = 5;

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

    /**
     * Bytes per second of the last {@link #RECENT_RUNS} copy loops that completed without a speed
     * limit and copied something: their bytes over their seconds, summed, so a long run weighs
     * more than a short one. Empty before the first such run.
     */
    OptionalLong recentBytesPerSecond() {
        long bytes = 0;
        long nanos = 0;
        synchronized (recentRuns) {
            for (Run run : recentRuns) {
                bytes += run.bytes();
                nanos += run.nanos();
            }
        }
        return nanos <= 0 ? OptionalLong.empty() : OptionalLong.of((long) (bytes * 1e9 / nanos));
    }

    void addObserver(CopyObserver observer) {
        observers.add(observer);
    }

    void removeObserver(CopyObserver observer) {
        observers.remove(observer);
    }

    /** A copy loop that completed: what it copied, in how long. */
    private record Run(long bytes, long nanos) {}

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

        /**
         * The job's copy loop completed after {@code nanos} (pauses included, as a user waits
         * through them too); only unlimited runs that copied something tell the machine's speed.
         */
        void completed(long nanos, boolean rateLimited) {
            long bytes = copied.sum();
            if (rateLimited || bytes == 0 || nanos <= 0) {
                return;
            }
            synchronized (recentRuns) {
                recentRuns.addLast(new Run(bytes, nanos));
                if (recentRuns.size() > RECENT_RUNS) {
                    recentRuns.removeFirst();
                }
            }
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
