package dev.blockpull.api.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.blockpull.job.JobView;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A job as the API shows it: QEMU's query-block-jobs and query-jobs members in camelCase, plus
 * throughput, ETA and timestamps.
 */
@Schema(name = "Job")
record JobResponse(
        @Schema(description = "Job id (QMP job-id)", example = "s1")
        String id,

        @Schema(description = "Job type", example = "stream")
        String type,

        @Schema(
                description = "QEMU job status",
                example = "running",
                allowableValues = {
                    "undefined",
                    "created",
                    "running",
                    "paused",
                    "ready",
                    "standby",
                    "waiting",
                    "pending",
                    "aborting",
                    "concluded",
                    "null"
                })
        String status,

        @Schema(description = "Node the job works on", example = "top")
        String device,

        @Schema(description = "Bytes done so far (QMP current-progress)", example = "4194304")
        long currentProgress,

        @Schema(
                description = "Bytes of the whole job (QMP total-progress); 0 until the job has started its loop",
                example = "8388608")
        long totalProgress,

        @Schema(description = "Alias of currentProgress (query-block-jobs' offset)", example = "4194304")
        long offset,

        @Schema(description = "Alias of totalProgress (query-block-jobs' len)", example = "8388608")
        long len,

        @Schema(description = "Rate limit in bytes per second, 0 = unlimited", example = "0")
        long speed,

        @Schema(description = "Job code is running (false while sleeping or paused)")
        boolean busy,

        @Schema(
                description = "A pause is requested (user, error stop or internal drain), even before the job "
                        + "reaches its pause point")
        boolean paused,

        @Schema(
                description = "I/O status after an error stop",
                allowableValues = {"ok", "failed", "nospace"})
        String ioStatus,

        @Schema(description = "Always false for stream jobs")
        boolean ready,

        @Schema(description = "Why the job failed, or 'Operation canceled'; absent on success")
        @JsonInclude(JsonInclude.Include.NON_NULL)
        @Nullable
        String error,

        @Schema(
                description = "Outcome, set once concluded",
                allowableValues = {"completed", "cancelled", "failed"})
        @Nullable
        String result,

        @Schema(description = "Recent throughput (sliding window), bytes per second; 0 once finished")
        long bytesPerSecond,

        @Schema(description = "Seconds left at the recent throughput; null when unknown") @Nullable
        Long etaSeconds,

        @Schema(description = "auto-finalize as given at creation")
        boolean autoFinalize,

        @Schema(description = "auto-dismiss as given at creation")
        boolean autoDismiss,

        @Schema(description = "When the job was created") Instant createdAt,

        @Schema(description = "When the job concluded; null before") @Nullable
        Instant finishedAt,

        @Schema(description = "How often the job was set up again after a service restart and resumed", example = "0")
        int restarts,

        @Schema(description = "When the job was last resumed after a service restart; null if never") @Nullable
        Instant resumedAt) {

    static JobResponse of(JobView v) {
        return new JobResponse(
                v.id(),
                v.type(),
                v.status().qmpName(),
                v.device(),
                v.currentProgress(),
                v.totalProgress(),
                v.currentProgress(),
                v.totalProgress(),
                v.speed(),
                v.busy(),
                v.paused(),
                v.ioStatus().qmpName(),
                v.ready(),
                v.error(),
                v.result() == null ? null : v.result().apiName(),
                v.bytesPerSecond(),
                v.etaSeconds(),
                v.autoFinalize(),
                v.autoDismiss(),
                v.createdAt(),
                v.finishedAt(),
                v.restarts(),
                v.resumedAt());
    }
}
