package dev.blockpull.ops;

import dev.blockpull.graph.NodeGraph;
import dev.blockpull.job.JobScheduler;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;

/**
 * Stops the job scheduler on shutdown (SIGTERM): after Tomcat has drained HTTP, because its phase
 * is below the web server's, and before the context destroys the {@link NodeGraph}, which then
 * flushes and closes every image cleanly (dirty bit cleared).
 * <p>
 * The scheduler stops every job at a pause point (no job I/O in flight), then parks it for the
 * next start (it releases what it holds without concluding; the state store recorded it before)
 * or, with {@code blockpull.jobs.resume-on-start=false}, cancels it as QEMU does at exit. Either
 * way each chain stays valid (the top still names its old backing file), and the job threads are
 * joined: no job thread survives the context.
 */
final class JobSchedulerLifecycle extends PhasedLifecycle {

    /**
     * Below {@link WebServerGracefulShutdownLifecycle#SMART_LIFECYCLE_PHASE} and the web server's
     * own start/stop phase (1024 lower still): stopped after both, started before both.
     */
    static final int PHASE = WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE - 4096;

    private static final Logger log = LoggerFactory.getLogger(JobSchedulerLifecycle.class);

    private final JobScheduler scheduler;
    private final NodeGraph graph;
    private final Duration timeout;
    private final boolean park;

    /** @param park park the jobs for the next start instead of cancelling them */
    JobSchedulerLifecycle(JobScheduler scheduler, NodeGraph graph, Duration timeout, boolean park) {
        super(PHASE);
        this.scheduler = scheduler;
        this.graph = graph;
        this.timeout = timeout;
        this.park = park;
    }

    @Override
    protected void onStop() {
        long live =
                scheduler.list().stream().filter(j -> !j.status().isCompleted()).count();
        log.info(
                "Stopping the job scheduler: {} running job(s) stop at a pause point and are {}; "
                        + "{} node(s) close afterwards",
                live,
                park ? "parked for the next start" : "cancelled",
                graph.nodes().size());
        long started = System.nanoTime();
        boolean stopped = park ? scheduler.park(timeout) : scheduler.shutdown(timeout);
        long millis = (System.nanoTime() - started) / 1_000_000;
        if (stopped) {
            log.info("Job scheduler stopped in {} ms", millis);
        } else {
            log.warn("Job scheduler: some job threads did not end within {}; images close anyway", timeout);
        }
    }
}
