package dev.blockpull.api.job;

import dev.blockpull.stream.StreamDryRun;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The answer of {@code POST /jobs/stream/plan}: what a start with the same body would do. */
@Schema(name = "StreamPlan", description = "What POST /jobs/stream would do with the same body; nothing was done")
record StreamPlanResponse(
        @Schema(description = "The id the job would get (default: the device node name)", example = "s1")
        String jobId,

        @Schema(description = "The node named by device", example = "top")
        String device,

        @Schema(description = "The node that would receive the data: device without its filters", example = "top")
        String top,

        @Schema(
                description = "The base as resolved from base, baseNode or bottom: it and what is below it stay; "
                        + "null when the whole chain is streamed",
                example = "base")
        @Nullable
        String baseNode,

        @Schema(
                description = "The lowest layer data would be copied from; null when nothing lies between the top "
                        + "and the base",
                example = "mid")
        @Nullable
        String bottom,

        @ArraySchema(
                arraySchema =
                        @Schema(
                                description = "Nodes that would leave the chain, from the top's backing "
                                        + "down to the base (exclusive), in chain order"),
                schema = @Schema(example = "mid"))
        List<String> removedNodes,

        @Schema(
                description = "The backing file string the top's header would name; null = no backing file",
                example = "base.qcow2")
        @Nullable
        String backingFile,

        @Schema(
                description = "Bytes the job would copy: allocated below the top and above the base, not in the "
                        + "top (from block status, as the job decides)",
                example = "1048576")
        long bytesToCopy,

        @Schema(description = "Contiguous ranges those bytes form", example = "3")
        long extentsToCopy,

        @Schema(description = "Size of the device in bytes (the job's totalProgress)", example = "8388608")
        long length,

        @Schema(description = "Seconds the copy would take on the estimateBasis; null without a basis", example = "2")
        @Nullable
        Long estimatedSeconds,

        @Schema(
                description = "speed: the request's speed limit; recent-jobs: the throughput of the last completed "
                        + "unlimited stream jobs; none: no estimate",
                allowableValues = {"speed", "recent-jobs", "none"})
        String estimateBasis) {

    static StreamPlanResponse of(StreamDryRun p) {
        return new StreamPlanResponse(
                p.jobId(),
                p.device(),
                p.top(),
                p.baseNode(),
                p.bottom(),
                p.removedNodes(),
                p.backingFile(),
                p.bytesToCopy(),
                p.extentsToCopy(),
                p.length(),
                p.estimatedSeconds(),
                p.estimateBasis().label());
    }
}
