package dev.blockpull.ops;

import dev.blockpull.graph.NodeGraph;
import dev.blockpull.job.JobScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;
import org.springframework.context.SmartLifecycle;

import java.time.Duration;

/**
 * Stops the job scheduler on shutdown (SIGTERM): after Tomcat has drained HTTP, because its phase
 * is below the web server's, and before the context destroys the {@link NodeGraph}, which then
 * flushes and closes every image cleanly (dirty bit cleared).
 * <p>
 * The scheduler parks every job at a pause point (no job I/O in flight), cancels it as QEMU does
 * at exit, so each chain stays exactly as it was before its job, and joins the job threads: no
 * job thread survives the context.
 */
final class JobSchedulerLifecycle implements SmartLifecycle {

    /**
     * Below {@link WebServerGracefulShutdownLifecycle#SMART_LIFECYCLE_PHASE} and the web server's
     * own start/stop phase (1024 lower still): stopped after both, started before both.
     */
    static final int PHASE = WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE - 4096;

    private static final Logger log = LoggerFactory.getLogger(JobSchedulerLifecycle.class);

    private final JobScheduler scheduler;
    private final NodeGraph graph;
    private final Duration timeout;
    private volatile boolean running;

    JobSchedulerLifecycle(JobScheduler scheduler, NodeGraph graph, Duration timeout) {
        this.scheduler = scheduler;
        this.graph = graph;
        this.timeout = timeout;
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        if (!running) {
            return;
        }
        running = false;
        long live = scheduler.list().stream().filter(j -> !j.status().isCompleted()).count();
        log.info("Stopping the job scheduler: {} running job(s) park at a pause point and are cancelled; "
                + "{} node(s) close afterwards", live, graph.nodes().size());
        long started = System.nanoTime();
        boolean stopped = scheduler.shutdown(timeout);
        long millis = (System.nanoTime() - started) / 1_000_000;
        if (stopped) {
            log.info("Job scheduler stopped in {} ms", millis);
        } else {
            log.warn("Job scheduler: some job threads did not end within {}; images close anyway", timeout);
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
