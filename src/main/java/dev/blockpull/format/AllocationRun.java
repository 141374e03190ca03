package dev.blockpull.format;

/**
 * Whether one layer itself holds the byte at an offset (data or zeros), and for how many bytes
 * from there the same answer holds: what a copy loop asks of each layer, chunk after chunk.
 *
 * @param allocated whether the layer holds the bytes
 * @param length    bytes from the offset the answer holds for; 0 at or past the end
 */
public record AllocationRun(boolean allocated, long length) {

    /** The first run of {@code extents} (adjacent, as {@link Image#blockStatus} gives them). */
    public static AllocationRun first(java.util.List<Extent> extents) {
        if (extents.isEmpty()) {
            return new AllocationRun(false, 0);
        }
        boolean allocated = extents.get(0).kind().isAllocated();
        long run = 0;
        long expected = extents.get(0).offset();
        for (Extent e : extents) {
            if (e.kind().isAllocated() != allocated || e.offset() != expected) {
                break;
            }
            run += e.length();
            expected = e.end();
        }
        return new AllocationRun(allocated, run);
    }
}
