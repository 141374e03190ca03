package dev.blockpull.job;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of one job for the API layer: QEMU's query-block-jobs/query-jobs members plus the
 * contract's extras. Taken under the job's lock, so its fields are consistent with each other.
 *
 * @param device           the node the job works on ({@link JobOptions#device()})
 * @param currentProgress  QEMU's offset / current-progress
 * @param totalProgress    QEMU's len / total-progress
 * @param busy             job code is running (false while sleeping, parked or completing)
 * @param paused           any pause is requested (user, error stop or drain), even before the
 *                         job reaches its pause point (QEMU: pause_count &gt; 0)
 * @param ready            status ready or standby
 * @param error            failure text, "Operation canceled" after a cancel; null on success
 * @param result           set once concluded
 * @param bytesPerSecond   recent throughput (sliding window); 0 once finished
 * @param etaSeconds       remaining time at that rate, while running with a known total
 * @param finishedAt       when it concluded
 * @param version          bumped on every change of a stored field (ETag); the derived
 *                         bytesPerSecond and etaSeconds do not bump it
 * @param restarts         how often the job was set up again after a service restart
 * @param resumedAt        when it was last set up again after a restart; null if never
 * @param userPaused       paused by the user or by an error stop (not by a drain): a resumed job
 *                         comes back paused exactly then
 */
public record JobView(
        String id,
        String type,
        JobStatus status,
        String device,
        long currentProgress,
        long totalProgress,
        long speed,
        boolean busy,
        boolean paused,
        IoStatus ioStatus,
        boolean ready,
        @Nullable String error,
        @Nullable JobResult result,
        long bytesPerSecond,
        @Nullable Long etaSeconds,
        Instant createdAt,
        @Nullable Instant finishedAt,
        boolean autoFinalize,
        boolean autoDismiss,
        long version,
        int restarts,
        @Nullable Instant resumedAt,
        boolean userPaused) {

    /**
     * This job as dismissed with {@code result}, for a job the service winds up at start-up
     * instead of resuming it (its completion had happened, or its images did not come back).
     */
    public JobView dismissedAs(JobResult result, @Nullable String error, Instant at) {
        long done = result == JobResult.COMPLETED ? Math.max(totalProgress, currentProgress) : currentProgress;
        return new JobView(
                id,
                type,
                JobStatus.NULL,
                device,
                done,
                Math.max(totalProgress, done),
                speed,
                false,
                false,
                ioStatus,
                false,
                error,
                result,
                0,
                null,
                createdAt,
                at,
                autoFinalize,
                autoDismiss,
                version + 1,
                restarts,
                resumedAt,
                false);
    }
}
