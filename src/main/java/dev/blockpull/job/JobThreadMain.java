package dev.blockpull.job;

import dev.blockpull.io.Monitor;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * What a scheduled job's thread does (QEMU's job_co_entry and job_exit): the initial pause point,
 * the job's run, then the completion sequence; or, parked for a restart, only the clean-up.
 */
final class JobThreadMain implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(JobThreadMain.class);

    private final Job job;
    private final JobState state;
    private final Monitor monitor;
    private final PauseState pause;
    private final CompletionSequence completion;
    private final JobThreadContext context;

    JobThreadMain(Job job, JobState state, PauseState pause, CompletionSequence completion, JobThreadContext context) {
        this.job = job;
        this.state = state;
        this.monitor = state.monitor;
        this.pause = pause;
        this.completion = completion;
        this.context = context;
    }

    @Override
    public void run() {
        String id = state.id();
        MDC.put("jobId", id);
        try {
            Throwable thrown = null;
            try {
                pause.initialPausePoint();
                job.run(context);
            } catch (JobParkedException e) {
                completion.releaseParked();
                return;
            } catch (JobCancelledException e) {
                if (!context.isCancelled()) {
                    thrown = e;
                }
            } catch (Throwable t) {
                // Errors too: a job thread must always reach completion or the job hangs in running.
                thrown = t;
            }
            if (thrown != null) {
                log.info("Job {} failed: {}", id, thrown.toString());
                log.debug("Job {} failure", id, thrown);
            }
            runReturned(thrown);
            completion.completeAfterRun();
        } catch (RuntimeException | Error e) {
            log.error("Job {} completion failed", id, e);
        } finally {
            MDC.remove("jobId");
        }
    }

    /** Quiescence listeners hear of it once the monitor is released. */
    private void runReturned(@Nullable Throwable thrown) {
        monitor.run(() -> {
            state.markRunReturned();
            pause.runReturned();
            completion.runReturned(thrown);
            state.bump();
            monitor.signalAll();
        });
    }
}
