package dev.blockpull.stream;

/**
 * Tuning of stream jobs.
 *
 * @param chunkSize      the unit of the loop's decisions, progress and errors (QEMU's
 *                       STREAM_CHUNK, 512 KiB): a chunk never crosses a change of allocation
 * @param copiesInFlight copies one job keeps in flight while it is not rate limited (1 = QEMU's
 *                       strictly sequential loop); a rate-limited job copies one chunk per pause
 *                       point, so the limiter's accounting stays exactly QEMU's
 * @param mergedCopySize most bytes of adjacent chunks an unthrottled job copies with one request
 *                       (larger I/O, fewer lookups), and the size of each copy's pooled buffer; a
 *                       merged copy that fails is redone chunk by chunk, so errors, progress and
 *                       the on-error policy stay per chunk
 * @param maxPlanned     most chunks (copied or skipped) one copy plans; bounds how long a drain
 *                       waits for a job walking an allocated top
 */
public record StreamSettings(int chunkSize, int copiesInFlight, int mergedCopySize, int maxPlanned) {

    public static final int QEMU_CHUNK = 512 * 1024;
    /** Largest merged copy: the largest buffer the pool keeps. */
    public static final int MAX_MERGED_COPY = 32 << 20;

    public StreamSettings {
        if (chunkSize < 512 || chunkSize % 512 != 0) {
            throw new IllegalArgumentException("chunkSize must be a positive multiple of 512: " + chunkSize);
        }
        if (copiesInFlight < 1 || copiesInFlight > 64) {
            throw new IllegalArgumentException("copiesInFlight must be 1..64: " + copiesInFlight);
        }
        if (mergedCopySize < chunkSize || mergedCopySize > MAX_MERGED_COPY) {
            throw new IllegalArgumentException(
                    "mergedCopySize must be " + chunkSize + ".." + MAX_MERGED_COPY + ": " + mergedCopySize);
        }
        if (maxPlanned < mergedCopySize / chunkSize) {
            throw new IllegalArgumentException("maxPlanned must hold a merged copy's chunks: " + maxPlanned);
        }
    }

    /** 512 KiB chunks; eight copies of up to 2 MiB of adjacent chunks in flight; 64 chunks a copy at most. */
    public static StreamSettings defaults() {
        return new StreamSettings(QEMU_CHUNK, 8, 4 * QEMU_CHUNK, 64);
    }

    /** QEMU's loop exactly: one chunk per pause point. */
    public static StreamSettings sequential() {
        return new StreamSettings(QEMU_CHUNK, 1, QEMU_CHUNK, 1);
    }

    public StreamSettings withCopies(int inFlight, int mergedSize) {
        return new StreamSettings(chunkSize, inFlight, mergedSize, Math.max(maxPlanned, mergedSize / chunkSize));
    }
}
