package dev.blockpull.stream;

/**
 * Tuning of stream jobs.
 *
 * @param chunkSize      most bytes one iteration of the run loop copies (QEMU's STREAM_CHUNK, 512 KiB)
 * @param copiesInFlight chunk copies one job keeps in flight between two pause points while it
 *                       is not rate limited (1 = QEMU's strictly sequential loop); a rate-limited
 *                       job always copies one chunk per pause point, so the limiter's accounting
 *                       stays exactly QEMU's
 * @param mergedCopySize most bytes of adjacent chunks an unthrottled job copies with one request
 *                       (larger I/O, fewer lookups); a merged copy that fails is redone chunk by
 *                       chunk, so errors, progress and the on-error policy stay per 512 KiB chunk
 * @param maxPlanned     most chunks (copied or skipped) one iteration plans before it yields again;
 *                       bounds how long a drain waits for a job walking an allocated top
 */
public record StreamSettings(int chunkSize, int copiesInFlight, int mergedCopySize, int maxPlanned) {

    public static final int QEMU_CHUNK = 512 * 1024;

    public StreamSettings {
        if (chunkSize < 512 || chunkSize % 512 != 0) {
            throw new IllegalArgumentException("chunkSize must be a positive multiple of 512: " + chunkSize);
        }
        if (copiesInFlight < 1 || copiesInFlight > 64) {
            throw new IllegalArgumentException("copiesInFlight must be 1..64: " + copiesInFlight);
        }
        if (mergedCopySize < chunkSize) {
            throw new IllegalArgumentException("mergedCopySize must be at least chunkSize: " + mergedCopySize);
        }
        if (maxPlanned < copiesInFlight) {
            throw new IllegalArgumentException("maxPlanned must be at least copiesInFlight: " + maxPlanned);
        }
    }

    /**
     * 512 KiB chunks, two copies of up to 2 MiB of adjacent chunks in flight (so at most 4 MiB
     * is copied between two pause points), at most 64 chunks between two pause points.
     */
    public static StreamSettings defaults() {
        return new StreamSettings(QEMU_CHUNK, 2, 4 * QEMU_CHUNK, 64);
    }

    /** Chunks an iteration may plan to copy: enough to keep every copy in flight at its merged size. */
    int plannedCopies() {
        return copiesInFlight * Math.max(1, mergedCopySize / chunkSize);
    }

    /** QEMU's loop exactly: one chunk per pause point. */
    public static StreamSettings sequential() {
        return new StreamSettings(QEMU_CHUNK, 1, QEMU_CHUNK, 1);
    }

    public StreamSettings withCopiesInFlight(int copies) {
        return new StreamSettings(chunkSize, copies, mergedCopySize, Math.max(maxPlanned, copies));
    }
}
