package dev.blockpull.job;

import dev.blockpull.job.JobEvent.JobProgress;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;

/**
 * A job's progress and speed: QEMU's current/total progress, the speed limit with its rate
 * limiter, the throughput meter, and the throttled JOB_PROGRESS events. Guarded by the job's
 * monitor (the limiter and the meter lock themselves).
 */
final class ProgressState {

    private final JobState state;
    private final RateLimiter limiter;
    private final ThroughputMeter throughput;
    private final LongSupplier nanoTime;
    private final long progressIntervalNanos;
    private long speed;
    private long current;
    private long total;
    private long lastProgressEventAt;

    ProgressState(JobState state, JobSchedulerSettings settings) {
        this.state = state;
        this.nanoTime = settings.nanoTime();
        this.limiter = new RateLimiter(nanoTime);
        this.throughput = new ThroughputMeter(settings.throughputWindow(), nanoTime);
        this.progressIntervalNanos = settings.progressInterval().toNanos();
    }

    /** job_start: the throughput window and the progress event interval start now. */
    void started() {
        throughput.start();
        lastProgressEventAt = nanoTime.getAsLong();
    }

    long speed() {
        return speed;
    }

    /** @return the speed before */
    long setSpeed(long bytesPerSecond) {
        long old = speed;
        limiter.setSpeed(bytesPerSecond);
        speed = bytesPerSecond;
        state.viewChanged();
        return old;
    }

    long current() {
        return current;
    }

    long total() {
        return total;
    }

    /** QEMU's job_progress_set_remaining. */
    void setRemaining(long remaining) {
        total = current + remaining;
        state.bump();
    }

    /** QEMU's job_progress_update, then a JOB_PROGRESS if one is due. */
    void add(long bytes) {
        current += bytes;
        throughput.record(bytes);
        state.bump();
        publishIfDue();
    }

    /** After a request that the rate limit pays for; needs no monitor. */
    void rateLimitAccount(long bytes) {
        limiter.account(bytes);
    }

    /** Nanoseconds the rate limit asks to wait now; needs no monitor. */
    long rateLimitDelay() {
        return limiter.account(0);
    }

    long bytesPerSecond() {
        return throughput.bytesPerSecond();
    }

    @Nullable
    Long etaSeconds(long bytesPerSecond) {
        if (state.current() == JobStatus.RUNNING && total > 0 && bytesPerSecond > 0) {
            return (total - current + bytesPerSecond - 1) / bytesPerSecond;
        }
        return null;
    }

    /** A JOB_PROGRESS once per progress interval, from the job thread as it makes progress. */
    private void publishIfDue() {
        long now = nanoTime.getAsLong();
        if (state.current() != JobStatus.RUNNING || now - lastProgressEventAt < progressIntervalNanos) {
            return;
        }
        lastProgressEventAt = now;
        long bps = throughput.bytesPerSecond();
        state.publish(new JobProgress(state.id(), current, total, bps, etaSeconds(bps)));
    }
}
