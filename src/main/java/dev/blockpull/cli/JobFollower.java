package dev.blockpull.cli;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

import java.io.UncheckedIOException;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Follows one stream job on {@code /jobs/events?jobId=} until it has finished (or waits in
 * {@code pending} for a finalize that is not automatic), drawing its progress. The event stream is
 * open before the job is started or read, so no change is missed; a stream the server ends early
 * (its timeout, a slow reader) is reopened with Last-Event-ID.
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

    /**
     * @param jobId the job to follow
     * @param start starts the job and returns its body; or reads it, for a job that already runs
     * @return the job as it is at the end
     */
    JsonNode follow(String jobId, Supplier<JsonNode> start) {
        String query = "?jobId=" + ApiClient.encode(jobId);
        Supplier<JsonNode> read = start;
        Long after = null;
        for (int attempt = 0; attempt <= RECONNECTS; attempt++) {
            try (EventStream events = api.events(query, after)) {
                JsonNode job = read.get();
                read = () -> api.get(jobPath(jobId));
                JobProgress progress = JobProgress.of(job);
                display.show(progress);
                if (stopsAt(progress.status(), job)) {
                    display.finish();
                    return job;
                }
                after = readUntilStop(events, job, progress);
                if (after == null) {
                    break;
                }
            }
        }
        display.finish();
        return api.get(jobPath(jobId));
    }

    /** Null once the job stopped; else the id of the last event read before the stream ended. */
    private @Nullable Long readUntilStop(EventStream events, JsonNode job, JobProgress start) {
        JobProgress progress = start;
        long lastId = 0;
        try {
            for (EventStream.Event e = events.next(); e != null; e = events.next()) {
                lastId = e.id();
                switch (e.name()) {
                    case "JOB_PROGRESS":
                        progress = progress.withProgress(e.data());
                        display.show(progress);
                        break;
                    case "JOB_STATUS_CHANGE":
                        progress = progress.withStatus(e.data().path("status").asString());
                        display.show(progress);
                        if (stopsAt(progress.status(), job)) {
                            return null;
                        }
                        break;
                    case "BLOCK_JOB_ERROR":
                        display.note(start.id() + ": I/O error on " + e.data().path("operation").asString()
                                + ", action " + e.data().path("action").asString());
                        break;
                    default:
                        break;
                }
            }
        } catch (UncheckedIOException connectionLost) {
            // Reconnected by the caller with the last id, as for a stream the server ended.
        }
        return lastId;
    }

    private static boolean stopsAt(String status, JsonNode job) {
        return FINISHED.contains(status) || ("pending".equals(status) && !job.path("autoFinalize").asBoolean(true));
    }

    static String jobPath(String jobId) {
        return "/jobs/stream/" + ApiClient.encode(jobId);
    }
}
