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
 */
final class ChunkPlanner {

    private final BlockNode top;
    private final @Nullable BlockNode belowTop;
    private final BlockNode baseOverlay;
    private final long length;
    private final int chunkSize;

    ChunkPlanner(BlockNode top, @Nullable BlockNode belowTop, BlockNode baseOverlay, long length, int chunkSize) {
        this.top = top;
        this.belowTop = belowTop;
        this.baseOverlay = baseOverlay;
        this.length = length;
        this.chunkSize = chunkSize;
    }

    /**
     * Plans chunks from {@code offset} into {@code batch} until it holds {@code maxCopies} copies,
     * is full, reaches the end, or meets an error (that chunk is planned with its error, and
     * planning stops: its length is a guess, the chunk size).
     */
    void plan(long offset, int maxCopies, ChunkBatch batch) {
        batch.clear();
        long pos = offset;
        while (pos < length && batch.copies < maxCopies && !batch.isFull()) {
            long n = Math.min(chunkSize, length - pos);
            try {
                Allocation inTop = BackingChain.isAllocated(top, pos, n);
                if (inTop.isAllocated() && inTop.run() > 0) {
                    batch.add(pos, inTop.run(), false, null);
                } else if (belowTop == null) {
                    batch.add(pos, length - pos, false, null);
                } else {
                    long run = inTop.run() > 0 ? inTop.run() : n;
                    Allocation below = BackingChain.isAllocatedAbove(belowTop, baseOverlay, true, pos, run);
                    if (!below.isAllocated() && below.run() == 0) {
                        batch.add(pos, length - pos, false, null); // early finish: past every intermediate
                    } else {
                        batch.add(pos, below.run() > 0 ? below.run() : run, below.isAllocated(), null);
                    }
                }
            } catch (RuntimeException e) {
                batch.add(pos, n, false, e);
                return;
            }
            pos = batch.end(batch.size - 1);
        }
    }
}
