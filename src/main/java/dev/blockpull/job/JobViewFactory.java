package dev.blockpull.job;

import java.time.Clock;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * Builds the {@link JobView} of a scheduled job from its parts and the facts fixed at creation.
 * Call with the job's monitor held, so the view's fields agree with each other.
 */
final class JobViewFactory {

    private final String type;
    private final JobOptions options;
    private final Instant createdAt;
    private final int restarts;
    private final @Nullable Instant resumedAt;
    private final JobState state;
    private final PauseState pause;
    private final ProgressState progress;

    JobViewFactory(
            String type,
            JobOptions options,
            @Nullable JobResumption resumption,
            Clock clock,
            JobState state,
            PauseState pause,
            ProgressState progress) {
        this.type = type;
        this.options = options;
        this.createdAt = resumption == null ? clock.instant() : resumption.createdAt();
        this.restarts = resumption == null ? 0 : resumption.restarts();
        this.resumedAt = resumption == null ? null : resumption.resumedAt();
        this.state = state;
        this.pause = pause;
        this.progress = progress;
    }

    JobView view(CompletionSequence completion) {
        JobStatus status = state.current();
        boolean finished = completion.finishedAt() != null;
        long bps = finished ? 0 : progress.bytesPerSecond();
        return new JobView(
                state.id(),
                type,
                status,
                options.device(),
                progress.current(),
                progress.total(),
                progress.speed(),
                pause.busy(),
                pause.paused() && !status.isCompleted(),
                pause.ioStatus(),
                status == JobStatus.READY || status == JobStatus.STANDBY,
                completion.error(),
                completion.result(),
                bps,
                progress.etaSeconds(bps),
                createdAt,
                completion.finishedAt(),
                options.autoFinalize(),
                options.autoDismiss(),
                state.version(),
                restarts,
                resumedAt,
                pause.userPaused());
    }
}
