package dev.blockpull.stream;

import dev.blockpull.graph.Allocation;
import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import org.jspecify.annotations.Nullable;

/**
 * The allocation decision of stream-semantics §3.1, chunk by chunk: a chunk is at most the chunk
 * size and never crosses a change of allocation in the top nor in the layers below it. Allocated
 * in the top: skipped. Else allocated in a layer from {@code cow(top)} down to the base overlay
 * (a layer shorter than the offset counts: it supplies zeros that the new base would not, the
 * Blockpull rule of §3.1): copied. Else skipped (the top keeps reading it through the base).
 *
 * <p>Each answer of the chain is remembered for the whole run it holds for: one metadata walk per
 * run of equal allocation (looking at most {@link #LOOKAHEAD} ahead), not one per chunk. That is
 * exact: a run's answer clipped to a chunk is what a query of that chunk alone returns. The
 * intermediates cannot change while the job holds them; the top only gains allocation, and the
 * copy-on-read filter re-checks the top under its cluster lock, so a remembered "unallocated in
 * the top" can never make a copy overwrite a guest write.
 */
final class ChunkPlanner {

    /** The longest run one walk looks at; a walk stops at the first change anyway. */
    static final long LOOKAHEAD = 256L << 20;

    private final @Nullable BlockNode belowTop;
    private final long length;
    private final int chunkSize;
    private final RememberedRun inTop;
    private final RememberedRun belowTopRun;

    ChunkPlanner(BlockNode top, @Nullable BlockNode belowTop, BlockNode baseOverlay, long length, int chunkSize) {
        this.belowTop = belowTop;
        this.length = length;
        this.chunkSize = chunkSize;
        this.inTop = new RememberedRun((pos, n) -> BackingChain.isAllocated(top, pos, n));
        this.belowTopRun = belowTop == null
                ? inTop
                : new RememberedRun((pos, n) -> BackingChain.isAllocatedAbove(belowTop, baseOverlay, true, pos, n));
    }

    /** The planner of a stream job with these roles: top's own allocation, then cow(top) to the base overlay. */
    static ChunkPlanner of(StreamRoles roles, long length, int chunkSize) {
        return new ChunkPlanner(roles.top(), BackingChain.cow(roles.top()), roles.baseOverlay(), length, chunkSize);
    }

    /**
     * Plans one segment from {@code offset} into {@code batch}: skipped chunks, then adjacent
     * copied chunks of at most {@code maxCopyBytes} in all (the first copied chunk always fits),
     * at most {@code maxChunks} chunks. A chunk that meets an error is planned with its error
     * and ends the segment (its length is a guess: the chunk size).
     */
    void plan(long offset, long maxCopyBytes, int maxChunks, ChunkBatch batch) {
        batch.clear();
        long pos = offset;
        long copyBytes = 0;
        while (pos < length && batch.size < maxChunks && !batch.isFull()) {
            long n = Math.min(chunkSize, length - pos);
            long chunk;
            boolean copy;
            try {
                Allocation top = inTop.at(pos, n);
                if (top.isAllocated() && top.run() > 0) {
                    chunk = top.run();
                    copy = false;
                } else if (belowTop == null) {
                    chunk = length - pos;
                    copy = false;
                } else {
                    long run = top.run() > 0 ? top.run() : n;
                    Allocation below = belowTopRun.at(pos, run);
                    copy = below.isAllocated();
                    // no run at all: past every intermediate, the early finish
                    chunk = !copy && below.run() == 0 ? length - pos : below.run() > 0 ? below.run() : run;
                }
            } catch (RuntimeException e) {
                if (batch.copies == 0) {
                    batch.add(pos, n, false, e); // else it starts the next segment, whose copies it blocks
                }
                return;
            }
            if (copy ? batch.copies > 0 && copyBytes + chunk > maxCopyBytes : batch.copies > 0) {
                return; // a copy run ends at a skipped chunk or at its size
            }
            batch.add(pos, chunk, copy, null);
            copyBytes += copy ? chunk : 0;
            pos += chunk;
        }
    }

    /**
     * Plans the whole device at once, read-only, as the copy loop would: the bytes it would copy
     * and the contiguous extents they form. A failed block-status query is thrown.
     */
    CopyTotals totals() {
        ChunkBatch batch = new ChunkBatch(64);
        long bytes = 0;
        long extents = 0;
        long copiedEnd = -1;
        for (long pos = 0; pos < length; pos = batch.end(batch.size - 1)) {
            plan(pos, Long.MAX_VALUE, batch.offsets.length, batch);
            for (int i = 0; i < batch.size; i++) {
                RuntimeException error = batch.errors[i];
                if (error != null) {
                    throw error;
                }
                if (batch.copy[i]) {
                    bytes += batch.lengths[i];
                    extents += batch.offsets[i] == copiedEnd ? 0 : 1;
                    copiedEnd = batch.end(i);
                }
            }
        }
        return new CopyTotals(bytes, extents);
    }

    /** What a whole run copies: bytes, and the number of contiguous extents they form. */
    record CopyTotals(long bytes, long extents) {
        static final CopyTotals NONE = new CopyTotals(0, 0);
    }

    /** Forgets what was remembered: planning goes back to an earlier offset (a chunk is retried). */
    void forget() {
        inTop.forget();
        belowTopRun.forget();
    }

    /** A question to the chain: the allocation at an offset, for at most so many bytes. */
    @FunctionalInterface
    private interface AllocationQuery {
        Allocation at(long offset, long length);
    }

    /** One remembered answer of a query: the run [{@code from}, {@code end}) with its depth. */
    private final class RememberedRun {
        private final AllocationQuery query;
        private long from = -1;
        private long end = -1;
        private int depth;

        RememberedRun(AllocationQuery query) {
            this.query = query;
        }

        Allocation at(long pos, long n) {
            if (pos < from || pos >= end) {
                Allocation a = query.at(pos, Math.min(LOOKAHEAD, length - pos));
                if (a.run() <= 0) {
                    forget();
                    return a;
                }
                from = pos;
                end = pos + a.run();
                depth = a.depth();
            }
            return new Allocation(depth, Math.min(n, end - pos));
        }

        void forget() {
            from = -1;
            end = -1;
        }
    }
}
