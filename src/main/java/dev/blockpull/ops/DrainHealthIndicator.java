package dev.blockpull.ops;

import dev.blockpull.graph.DrainStats;
import dev.blockpull.graph.NodeGraph;
import java.time.Duration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The {@code drain} health component (readiness group): pending I/O of the graph. DOWN while a
 * drain has waited longer than {@code blockpull.graph.drain-timeout}: the service cannot change
 * its graph (jobs cannot start or finish) until the requests it waits for complete. Never in the
 * liveness group: being busy is no reason for a restart.
 */
@Component("drain")
class DrainHealthIndicator implements HealthIndicator {

    private final NodeGraph graph;
    private final Duration timeout;

    DrainHealthIndicator(NodeGraph graph, BlockpullProperties properties) {
        this.graph = graph;
        this.timeout = properties.graph().drainTimeout();
    }

    @Override
    public Health health() {
        DrainStats s = graph.drainStats();
        boolean overdue = s.drainsInProgress() > 0 && s.longestDrainMillis() > timeout.toMillis();
        Health.Builder h = overdue ? Health.down() : Health.up();
        h.withDetail("inFlightRequests", s.inFlightRequests())
                .withDetail("drainsInProgress", s.drainsInProgress())
                .withDetail("oldestInFlightMillis", s.oldestInFlightMillis())
                .withDetail("longestDrainMillis", s.longestDrainMillis())
                .withDetail("drainTimeoutMillis", timeout.toMillis());
        if (overdue) {
            h.withDetail(
                    "reason",
                    "a drain has waited " + s.longestDrainMillis() + " ms for in-flight requests "
                            + "or jobs, longer than the drain timeout");
        }
        return h.build();
    }
}
