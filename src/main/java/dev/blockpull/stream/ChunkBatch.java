package dev.blockpull.stream;

import org.jspecify.annotations.Nullable;

/**
 * The chunks one iteration of the run loop handles between two pause points, in offset order:
 * skipped or copied, with the error each met. Reused from iteration to iteration, so the loop
 * allocates no per-chunk bookkeeping.
 */
final class ChunkBatch {

    final long[] offsets;
    final long[] lengths;
    final boolean[] copy;
    final @Nullable RuntimeException[] errors;
    int size;
    int copies;

    ChunkBatch(int capacity) {
        offsets = new long[capacity];
        lengths = new long[capacity];
        copy = new boolean[capacity];
        errors = new RuntimeException[capacity];
    }

    void clear() {
        for (int i = 0; i < size; i++) {
            errors[i] = null;
        }
        size = 0;
        copies = 0;
    }

    boolean isFull() {
        return size == offsets.length;
    }

    void add(long offset, long length, boolean copyIt, @Nullable RuntimeException error) {
        offsets[size] = offset;
        lengths[size] = length;
        copy[size] = copyIt;
        errors[size] = error;
        size++;
        if (copyIt) {
            copies++;
        }
    }

    long end(int i) {
        return offsets[i] + lengths[i];
    }
}
