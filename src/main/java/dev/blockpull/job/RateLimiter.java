package dev.blockpull.job;

import java.util.function.LongSupplier;

/**
 * QEMU's RateLimit (include/qemu/ratelimit.h) in bytes with 100 ms slices, except that a slice
 * follows on from the end of the last one when that ended less than a slice ago. Accounting happens
 * after each request and returns the delay before the next one, so the first request is never
 * delayed and a request larger than a slice's quota pays with a proportionally longer,
 * multi-slice wait. Thread-safe: set-speed comes from request threads.
 */
public final class RateLimiter {

    public static final long SLICE_NANOS = 100_000_000L;
    private static final double NANOS_PER_SECOND = 1_000_000_000.0;

    private final LongSupplier nanoTime;
    private long quota;
    private long sliceStart;
    private long sliceEnd;
    private boolean sliceOpen;
    private long dispatched;

    public RateLimiter(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** 0 disables the limiter; else quota = max(speed × 0.1 s, 1) bytes per slice, truncated. */
    public synchronized void setSpeed(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new InvalidSpeedException();
        }
        quota = bytesPerSecond == 0 ? 0 : (long) Math.max(bytesPerSecond * (SLICE_NANOS / NANOS_PER_SECOND), 1);
    }

    /** Bytes allowed per 100 ms slice; 0 when disabled. */
    public synchronized long quota() {
        return quota;
    }

    /**
     * Accounts {@code bytes} just sent and returns how many nanoseconds to wait before the next
     * request; {@code account(0)} asks for the remaining delay without sending anything.
     */
    public synchronized long account(long bytes) {
        if (quota == 0) {
            return 0;
        }
        long now = nanoTime.getAsLong();
        // Compared by difference: System.nanoTime may be negative and may wrap.
        if (!sliceOpen || sliceEnd - now < 0) {
            // A slice that ended less than a slice ago is followed from its end, not from now:
            // QEMU restarts at now and so loses every late wake-up (and the copy made after it),
            // ~1 % of the speed at 200 MiB/s. After a longer pause the job starts afresh, with no
            // credit for the time it did not copy.
            boolean followOn = sliceOpen && now - sliceEnd < SLICE_NANOS;
            sliceStart = followOn ? sliceEnd : now;
            sliceEnd = sliceStart + SLICE_NANOS;
            sliceOpen = true;
            dispatched = 0;
        }
        dispatched += bytes;
        if (dispatched < quota) {
            return 0;
        }
        double slices = (double) dispatched / quota;
        sliceEnd = sliceStart + (long) (slices * SLICE_NANOS);
        return Math.max(0, sliceEnd - now);
    }
}
