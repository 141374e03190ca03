package dev.blockpull.job;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * An internal pause of a set of jobs (a drain, or shutdown): every job's pause counter is raised
 * once on creation and lowered once on {@link #close()}. Meanwhile {@link #awaitQuiescent} waits
 * until each of them stands at a pause point (or sleeps, or has finished its run).
 */
public final class DrainSection implements AutoCloseable {

    private final List<JobHandle> jobs;
    private boolean closed;

    private DrainSection(List<JobHandle> jobs) {
        this.jobs = jobs;
    }

    /** Raises the pause counter of each job; jobs already at a pause point stay there. */
    public static DrainSection begin(List<? extends JobHandle> jobs) {
        List<JobHandle> begun = new ArrayList<>(jobs.size());
        for (JobHandle job : jobs) {
            job.drainedBegin();
            begun.add(job);
        }
        return new DrainSection(List.copyOf(begun));
    }

    /** Ids of the paused jobs, in the order given. */
    public List<String> jobIds() {
        List<String> ids = new ArrayList<>(jobs.size());
        for (JobHandle job : jobs) {
            ids.add(job.id());
        }
        return ids;
    }

    /**
     * Waits until every job is quiescent, all within one {@code timeout}.
     *
     * @return false if the timeout passed first; {@link #notQuiescent()} names the stragglers
     */
    public boolean awaitQuiescent(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (JobHandle job : jobs) {
            long remaining = deadline - System.nanoTime();
            if (!job.awaitQuiescent(Duration.ofNanos(Math.max(remaining, 0)))) {
                return false;
            }
        }
        return true;
    }

    /** Jobs of this section still running job code right now. */
    public List<String> notQuiescent() {
        List<String> ids = new ArrayList<>();
        for (JobHandle job : jobs) {
            if (!job.isQuiescent()) {
                ids.add(job.id());
            }
        }
        return ids;
    }

    /** Ends the internal pause; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (JobHandle job : jobs) {
            job.drainedEnd();
        }
    }
}
