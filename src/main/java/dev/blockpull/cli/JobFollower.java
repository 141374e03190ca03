package dev.blockpull.cli;

import java.io.UncheckedIOException;
import java.util.Set;
import java.util.function.Supplier;
import tools.jackson.databind.JsonNode;

/**
 * Follows one stream job on {@code /jobs/events?jobId=} until it has finished (or waits in
 * {@code pending} for a finalize that is not automatic), drawing its progress. The event stream is
 * open before the job is started or read, so no change is missed. A stream the server ends early
 * (its timeout, a slow reader) is reopened the same way, live events only and the job read again:
 * a replay could hold the last events of an earlier job with the same id, which ended.
 */
final class JobFollower {

    private static final Set<String> FINISHED = Set.of("concluded", "null");
    private static final int RECONNECTS = 5;

    private final ApiClient api;
    private final ProgressDisplay display;

    JobFollower(ApiClient api, ProgressDisplay display) {
        this.api = api;
        this.display = display;
    }

    /** Starts the job with {@code start} (which returns its body) and follows it. */
    JsonNode start(String jobId, Supplier<JsonNode> start) {
        return follow(jobId, start, false);
    }

    /** Follows a job that already exists. */
    JsonNode follow(String jobId) {
        return follow(jobId, () -> api.get(jobPath(jobId)), true);
    }

    /**
     * @param read         starts or reads the job; called once the event stream is open
     * @param showFirstRead false for a job just started: its first events (created, running) follow
     *                     anyway, and drawing the POST's answer first would show them out of order
     * @return the job as it is at the end
     */
    private JsonNode follow(String jobId, Supplier<JsonNode> read, boolean showFirstRead) {
        String query = "?jobId=" + ApiClient.encode(jobId);
        Supplier<JsonNode> next = read;
        boolean show = showFirstRead;
        for (int attempt = 0; attempt <= RECONNECTS; attempt++) {
            try (EventStream events = api.events(query)) {
                JsonNode job = next.get();
                JobProgress progress = JobProgress.of(job);
                if (show) {
                    display.show(progress);
                }
                if (stopsAt(progress.status(), job)) {
                    display.finish();
                    return job;
                }
                if (readUntilStop(events, job, progress)) {
                    break;
                }
            }
            next = () -> api.get(jobPath(jobId));
            show = true;
        }
        display.finish();
        return api.get(jobPath(jobId));
    }

    /** True once the job stopped; false when the stream ended first. */
    private boolean readUntilStop(EventStream events, JsonNode job, JobProgress start) {
        JobProgress progress = start;
        try {
            for (EventStream.Event e = events.next(); e != null; e = events.next()) {
                switch (e.name()) {
                    case "JOB_PROGRESS":
                        progress = progress.withProgress(e.data());
                        display.show(progress);
                        break;
                    case "JOB_STATUS_CHANGE":
                        // Read the job for what a status change leaves out (the last progress, ETA).
                        progress = JobProgress.of(api.get(jobPath(start.id())))
                                .withStatus(e.data().path("status").asString());
                        display.show(progress);
                        if (stopsAt(progress.status(), job)) {
                            return true;
                        }
                        break;
                    case "BLOCK_JOB_ERROR":
                        display.note(start.id() + ": I/O error on "
                                + e.data().path("operation").asString() + ", action "
                                + e.data().path("action").asString());
                        break;
                    default:
                        break;
                }
            }
        } catch (UncheckedIOException connectionLost) {
            // Reconnected by the caller, as for a stream the server ended.
        }
        return false;
    }

    private static boolean stopsAt(String status, JsonNode job) {
        return FINISHED.contains(status)
                || ("pending".equals(status) && !job.path("autoFinalize").asBoolean(true));
    }

    static String jobPath(String jobId) {
        return "/jobs/stream/" + ApiClient.encode(jobId);
    }
}
