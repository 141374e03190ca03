package dev.blockpull.stream;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What a stream start with the same request would do, found without doing any of it (QEMU has no
 * dry run of block-stream; this answers with the start's checks and the copy loop's planner).
 *
 * @param jobId            the id the job would get (the default applied)
 * @param device           the node named by {@code device}
 * @param top              the node that would receive the data: {@code device} without its filters
 * @param baseNode         the base as resolved: it and what is below it stay; null = none stays
 * @param bottom           the lowest layer data would be copied from; null when nothing is copied
 *                         from below the top
 * @param removedNodes     the nodes that would leave the chain, from the top's backing down to
 *                         the base (exclusive), in chain order
 * @param backingFile      the backing file string the top's header would name; null = none
 * @param bytesToCopy      bytes the copy loop would copy (allocated below the top, above the base,
 *                         not in the top)
 * @param extentsToCopy    contiguous ranges those bytes form
 * @param length           the device's size, the job's total progress
 * @param estimatedSeconds time the copy would take on the {@code estimateBasis}; null without one
 */
public record StreamDryRun(
        String jobId,
        String device,
        String top,
        @Nullable String baseNode,
        @Nullable String bottom,
        List<String> removedNodes,
        @Nullable String backingFile,
        long bytesToCopy,
        long extentsToCopy,
        long length,
        @Nullable Long estimatedSeconds,
        EstimateBasis estimateBasis) {

    public StreamDryRun {
        removedNodes = List.copyOf(removedNodes);
    }

    /** Where the estimate comes from. */
    public enum EstimateBasis {
        /** The request's speed limit: the limiter lets that many bytes through per second. */
        SPEED("speed"),
        /** Bytes per second of the last completed unlimited stream jobs that copied something. */
        RECENT_JOBS("recent-jobs"),
        /** Unlimited, and no such job yet: no estimate. */
        NONE("none");

        private final String label;

        EstimateBasis(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }
}
