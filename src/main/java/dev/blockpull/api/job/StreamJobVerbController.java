package dev.blockpull.api.job;

import dev.blockpull.api.IdempotencyKeys;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobView;
import dev.blockpull.ops.state.StateRecorder;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/**
 * The job verbs on a stream job, as sub-resources of {@code /jobs/stream/{id}}: pause and cancel
 * answer 202 (they take effect at the job's next pause point, as in QMP), resume, finalize,
 * dismiss and PATCH answer 200. Every answer carries the job's ETag; If-Match is honoured (412 on
 * mismatch).
 */
@RestController
@RequestMapping("/jobs/stream")
@Tag(name = "stream jobs")
class StreamJobVerbController {

    private static final String MERGE_PATCH_JSON = "application/merge-patch+json";

    private final JobScheduler scheduler;
    private final JobQueries jobs;
    private final IdempotencyKeys idempotency;
    private final StateRecorder recorder;

    StreamJobVerbController(
            JobScheduler scheduler, JobQueries jobs, IdempotencyKeys idempotency, StateRecorder recorder) {
        this.scheduler = scheduler;
        this.jobs = jobs;
        this.idempotency = idempotency;
        this.recorder = recorder;
    }

    @PatchMapping(
            path = "/{id}",
            consumes = {MERGE_PATCH_JSON, MediaType.APPLICATION_JSON_VALUE})
    @Operation(
            operationId = "setStreamJobSpeed",
            summary = "Change the speed limit (block-job-set-speed)",
            description = "A JSON merge patch (RFC 7396) of the job; only 'speed' may change. Takes effect at once: "
                    + "raising it or setting 0 wakes a job sleeping on its rate limit.",
            requestBody =
                    @io.swagger.v3.oas.annotations.parameters.RequestBody(
                            required = true,
                            content = {
                                @Content(
                                        mediaType = MERGE_PATCH_JSON,
                                        schema = @Schema(implementation = JobPatch.class)),
                                @Content(
                                        mediaType = MediaType.APPLICATION_JSON_VALUE,
                                        schema = @Schema(implementation = JobPatch.class))
                            }))
    @ApiResponse(
            responseCode = "200",
            description = "The job with its new speed",
            headers = @Header(name = "ETag", description = "Version of the job"))
    @ApiResponse(responseCode = "400", description = "A member other than speed, or a negative or non-integer speed")
    @ApiResponse(responseCode = "409", description = "The job's status does not accept set-speed")
    @JobVerbResponses
    ResponseEntity<JobResponse> setStreamJobSpeed(
            @PathVariable String id,
            @RequestBody(required = false) @Parameter(hidden = true) @Nullable JsonNode patch,
            @Parameter(description = "Apply only if the job still has this ETag")
                    @RequestHeader(name = HttpHeaders.IF_MATCH, required = false)
                    @Nullable
                    String ifMatch) {
        Long speed = JobPatch.speedOf(patch);
        return verb(id, ifMatch, HttpStatus.OK, v -> speed == null ? v : scheduler.setSpeed(id, speed));
    }

    @PostMapping("/{id}/pause")
    @Operation(
            operationId = "pauseStreamJob",
            summary = "Pause the job (job-pause)",
            description = "Accepted at once (paused=true); the job parks at its next pause point (status 'paused').")
    @ApiResponse(
            responseCode = "202",
            description = "Pause requested; the body is the job now",
            headers = @Header(name = "ETag", description = "Version of the job"))
    @ApiResponse(responseCode = "409", description = "Already paused, or the job's status does not accept pause")
    @JobVerbResponses
    ResponseEntity<JobResponse> pauseStreamJob(
            @PathVariable String id,
            @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) @Nullable String ifMatch,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
                    @RequestHeader(name = IdempotencyKeys.HEADER, required = false)
                    @Nullable
                    String idempotencyKey) {
        return idempotency.run(
                idempotencyKey,
                List.of("POST pause", id),
                () -> verb(id, ifMatch, HttpStatus.ACCEPTED, v -> scheduler.pause(id)));
    }

    @PostMapping("/{id}/resume")
    @Operation(
            operationId = "resumeStreamJob",
            summary = "Resume a paused job (job-resume)",
            description = "Also resets ioStatus after an error stop, so the job retries the failed request.")
    @ApiResponse(
            responseCode = "200",
            description = "Resumed; the body is the job",
            headers = @Header(name = "ETag", description = "Version of the job"))
    @ApiResponse(responseCode = "409", description = "Not paused, or the job's status does not accept resume")
    @JobVerbResponses
    ResponseEntity<JobResponse> resumeStreamJob(
            @PathVariable String id,
            @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) @Nullable String ifMatch,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
                    @RequestHeader(name = IdempotencyKeys.HEADER, required = false)
                    @Nullable
                    String idempotencyKey) {
        return idempotency.run(
                idempotencyKey,
                List.of("POST resume", id),
                () -> verb(id, ifMatch, HttpStatus.OK, v -> scheduler.resume(id)));
    }

    @PostMapping("/{id}/cancel")
    @Operation(
            operationId = "cancelStreamJob",
            summary = "Cancel the job (block-job-cancel / job-cancel)",
            description = "The chain stays as it was before the job. Without force a user-paused job refuses, as "
                    + "block-job-cancel does; force=true cancels it anyway (resuming it first). A job waiting in "
                    + "'pending' aborts.")
    @ApiResponse(
            responseCode = "202",
            description = "Cancel requested; the job concludes with result 'cancelled'",
            headers = @Header(name = "ETag", description = "Version of the job"))
    @ApiResponse(
            responseCode = "409",
            description = "The job is paused (without force) or its status does not accept cancel")
    @JobVerbResponses
    ResponseEntity<JobResponse> cancelStreamJob(
            @PathVariable String id,
            @Parameter(description = "Cancel even a user-paused job") @RequestParam(defaultValue = "false")
                    boolean force,
            @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) @Nullable String ifMatch,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
                    @RequestHeader(name = IdempotencyKeys.HEADER, required = false)
                    @Nullable
                    String idempotencyKey) {
        return idempotency.run(
                idempotencyKey,
                List.of("POST cancel", id, force),
                () -> verb(id, ifMatch, HttpStatus.ACCEPTED, v -> scheduler.blockJobCancel(id, force)));
    }

    @PostMapping("/{id}/finalize")
    @Operation(
            operationId = "finalizeStreamJob",
            summary = "Finalize a pending job (job-finalize)",
            description = "For jobs started with autoFinalize=false: runs the graph changes (drop the filter, re-point "
                    + "the backing link, rewrite the header) and concludes the job.")
    @ApiResponse(
            responseCode = "200",
            description = "Finalized; the body is the job",
            headers = @Header(name = "ETag", description = "Version of the job"))
    @ApiResponse(responseCode = "409", description = "The job is not pending")
    @JobVerbResponses
    ResponseEntity<JobResponse> finalizeStreamJob(
            @PathVariable String id,
            @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) @Nullable String ifMatch,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
                    @RequestHeader(name = IdempotencyKeys.HEADER, required = false)
                    @Nullable
                    String idempotencyKey) {
        return idempotency.run(
                idempotencyKey,
                List.of("POST finalize", id),
                () -> verb(id, ifMatch, HttpStatus.OK, v -> scheduler.finalizeJob(id)));
    }

    @PostMapping("/{id}/dismiss")
    @Operation(
            operationId = "dismissStreamJob",
            summary = "Dismiss a concluded job (job-dismiss)",
            description = "For jobs started with autoDismiss=false. The job id is free again; the job stays readable "
                    + "with status 'null' for a while.")
    @ApiResponse(
            responseCode = "200",
            description = "Dismissed; the body is the job's final record",
            headers = @Header(name = "ETag", description = "Version of the job"))
    @ApiResponse(responseCode = "409", description = "The job has not concluded")
    @JobVerbResponses
    ResponseEntity<JobResponse> dismissStreamJob(
            @PathVariable String id,
            @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) @Nullable String ifMatch,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
                    @RequestHeader(name = IdempotencyKeys.HEADER, required = false)
                    @Nullable
                    String idempotencyKey) {
        return idempotency.run(
                idempotencyKey,
                List.of("POST dismiss", id),
                () -> verb(id, ifMatch, HttpStatus.OK, v -> scheduler.dismiss(id)));
    }

    /**
     * Looks the job up (404 for other types), checks If-Match, applies the verb. The check and
     * the verb are not atomic: a change in between is not detected, as with any ETag over a
     * resource that also changes by itself.
     */
    private ResponseEntity<JobResponse> verb(
            String id, @Nullable String ifMatch, HttpStatus status, Function<JobView, JobView> action) {
        JobView current = jobs.get(JobQueries.STREAM, id);
        JobQueries.checkIfMatch(ifMatch, current);
        JobView after = action.apply(current);
        // A user pause or a new speed is on disk before the answer; status changes come as events too.
        recorder.jobChanged();
        return ResponseEntity.status(status).eTag(JobQueries.etag(after)).body(JobResponse.of(after));
    }
}
