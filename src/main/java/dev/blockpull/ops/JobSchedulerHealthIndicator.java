package dev.blockpull.ops;

import dev.blockpull.graph.DrainStats;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.job.JobHandle;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The {@code jobScheduler} health component (liveness group). DOWN only when the scheduler is
 * stuck: a drain has waited longer than {@code blockpull.jobs.stuck-timeout} while a job still has
 * not reached a pause point. A drain asks every job it touches to park at its next pause point,
 * which a healthy job reaches within one chunk; one that does not for minutes is wedged (a
 * hung storage call, a lost wake-up), and only a restart frees its nodes. Busy I/O alone (a drain
 * waiting for guest requests while every job is parked) is not stuck: readiness shows that.
 */
@Component // bean jobSchedulerHealthIndicator: Boot names the component "jobScheduler"
class JobSchedulerHealthIndicator implements HealthIndicator {

    private final JobScheduler scheduler;
    private final NodeGraph graph;
    private final Duration stuckTimeout;

    JobSchedulerHealthIndicator(JobScheduler scheduler, NodeGraph graph, BlockpullProperties properties) {
        this.scheduler = scheduler;
        this.graph = graph;
        this.stuckTimeout = properties.jobs().stuckTimeout();
    }

    @Override
    public Health health() {
        DrainStats drains = graph.drainStats();
        int live = 0;
        List<String> notAtPausePoint = new ArrayList<>();
        for (JobView job : scheduler.list()) {
            if (job.status().isCompleted()) {
                continue;
            }
            live++;
            boolean quiescent =
                    scheduler.handle(job.id()).map(JobHandle::isQuiescent).orElse(true);
            if (!quiescent) {
                notAtPausePoint.add(job.id());
            }
        }
        boolean stuck = drains.drainsInProgress() > 0
                && drains.longestDrainMillis() > stuckTimeout.toMillis()
                && !notAtPausePoint.isEmpty();
        Health.Builder h = stuck ? Health.down() : Health.up();
        h.withDetail("activeJobs", live)
                .withDetail("jobsNotAtPausePoint", notAtPausePoint)
                .withDetail("longestDrainMillis", drains.longestDrainMillis())
                .withDetail("stuckTimeoutMillis", stuckTimeout.toMillis());
        if (stuck) {
            h.withDetail(
                    "reason",
                    "a drain has waited " + drains.longestDrainMillis() + " ms, longer than the stuck "
                            + "timeout, while job(s) " + notAtPausePoint + " did not reach a pause point");
        }
        return h.build();
    }
}
