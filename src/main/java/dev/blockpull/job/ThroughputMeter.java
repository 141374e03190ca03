package dev.blockpull.job;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.LongSupplier;

/**
 * Recent throughput of one job over a sliding window, for {@code bytesPerSecond} and the ETA.
 * Samples are summed into 100 ms buckets so memory stays bounded however fast the job is.
 * Not thread-safe: the job guards it with its own lock.
 */
final class ThroughputMeter {

    private static final long BUCKET_NANOS = 100_000_000L;

    private final long windowNanos;
    private final LongSupplier nanoTime;
    /** Each entry: {bucket start, bytes}. */
    private final ArrayDeque<long[]> buckets = new ArrayDeque<>();

    private long windowBytes;
    private long startedAt;
    private boolean started;

    ThroughputMeter(Duration window, LongSupplier nanoTime) {
        this.windowNanos = Math.max(window.toNanos(), BUCKET_NANOS);
        this.nanoTime = nanoTime;
    }

    /** The job starts running: a young job's rate is averaged over its age, not the window. */
    void start() {
        startedAt = nanoTime.getAsLong();
        started = true;
    }

    void record(long bytes) {
        long now = nanoTime.getAsLong();
        long bucket = now - Math.floorMod(now, BUCKET_NANOS);
        long[] last = buckets.peekLast();
        if (last != null && last[0] == bucket) {
            last[1] += bytes;
        } else {
            buckets.addLast(new long[] {bucket, bytes});
        }
        windowBytes += bytes;
        prune(now);
    }

    long bytesPerSecond() {
        if (!started) {
            return 0;
        }
        long now = nanoTime.getAsLong();
        prune(now);
        long span = Math.min(windowNanos, now - startedAt);
        if (span <= 0) {
            return 0;
        }
        return (long) (windowBytes * 1_000_000_000.0 / span);
    }

    private void prune(long now) {
        while (!buckets.isEmpty() && now - buckets.peekFirst()[0] >= windowNanos) {
            windowBytes -= buckets.removeFirst()[1];
        }
    }
}
