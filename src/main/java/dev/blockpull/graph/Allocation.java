package dev.blockpull.graph;

/**
 * An answer of {@link BackingChain#isAllocated} or {@link BackingChain#isAllocatedAbove}.
 *
 * @param depth 0 when no layer asked supplies the bytes; else the 1-based depth of the layer
 *              that does, counted from the first layer asked (filters not counted)
 * @param run   how many bytes from the offset the answer holds for
 */
public record Allocation(int depth, long run) {

    public boolean isAllocated() {
        return depth > 0;
    }
}
