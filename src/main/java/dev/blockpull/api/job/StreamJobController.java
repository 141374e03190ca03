package dev.blockpull.api.job;

import dev.blockpull.api.ApiException;
import dev.blockpull.api.IdempotencyKeys;
import dev.blockpull.api.Paging;
import dev.blockpull.api.ProblemType;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.ops.state.StateRecorder;
import dev.blockpull.stream.StreamLauncher;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.util.UriComponentsBuilder;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * {@code /jobs/stream}: QMP's block-stream and the job verbs on stream jobs. Verbs are
 * sub-resources; pause and cancel answer 202 (they take effect at the job's next pause point, as
 * in QMP), resume, finalize, dismiss and PATCH answer 200. Every response carrying a job carries
 * its ETag; If-Match on PATCH and verbs is honoured (412 on mismatch).
 */
@RestController
@RequestMapping("/jobs/stream")
@Tag(name = "stream jobs", description = "block-stream and the job verbs (job-pause, job-resume, job-cancel, "
        + "job-finalize, job-dismiss, block-job-set-speed)")
class StreamJobController {

    static final String MERGE_PATCH_JSON = "application/merge-patch+json";
    private static final Set<String> LIST_PARAMETERS = Set.of("status", "device", "pageSize", "pageToken");

    private final StreamLauncher launcher;
    private final JobScheduler scheduler;
    private final JobQueries jobs;
    private final IdempotencyKeys idempotency;
    private final JobWaits waits;
    private final StateRecorder recorder;

    StreamJobController(StreamLauncher launcher, JobScheduler scheduler, JobQueries jobs, IdempotencyKeys idempotency,
                        JobWaits waits, StateRecorder recorder) {
        this.launcher = launcher;
        this.scheduler = scheduler;
        this.jobs = jobs;
        this.idempotency = idempotency;
        this.waits = waits;
        this.recorder = recorder;
    }

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(operationId = "startStreamJob", summary = "Start a stream job (block-stream)",
            description = "Copies the data of the backing chain between device and base (or bottom) into the device "
                    + "and then drops those layers from its chain. Every argument is checked first, in QEMU's order "
                    + "and with QEMU's messages; on any failure nothing is created. The job is running when this "
                    + "returns; follow it at its Location, or on /jobs/events.")
    @ApiResponse(responseCode = "201", description = "Started; the body is the job",
            headers = {@Header(name = "Location", description = "/jobs/stream/{id}"),
                    @Header(name = "ETag", description = "Version of the job")})
    @ApiResponse(responseCode = "400", description = "Contradictory or invalid arguments (base and baseNode, a base "
            + "not below the device, an invalid job id, negative speed, unknown fields, ...)")
    @ApiResponse(responseCode = "404", description = "The device or a named node does not exist")
    @ApiResponse(responseCode = "409", description = "Job id in use, or a node of the chain busy with another job")
    ResponseEntity<JobResponse> startStreamJob(@Valid @RequestBody StartStreamRequest request,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
            @RequestHeader(name = IdempotencyKeys.HEADER, required = false) @Nullable String idempotencyKey) {
        return idempotency.run(idempotencyKey, List.of("POST /jobs/stream", request), () -> {
            JobView job = launcher.start(request.toStreamRequest());
            return ResponseEntity.created(location(job.id())).eTag(JobQueries.etag(job)).body(JobResponse.of(job));
        });
    }

    @PostMapping(path = "/plan", consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(operationId = "planStreamJob", summary = "Dry run of a stream start: what it would do",
            description = "Takes the body of POST /jobs/stream and runs the same checks, failing with the same "
                    + "problems (a jobId in use is 409, as the start would be), then answers what the start would do: "
                    + "the nodes that would leave the chain, the new backing file string, the bytes and extents to "
                    + "copy (the job's own block-status decision, so a job started right after copies exactly "
                    + "bytesToCopy unless a client writes meanwhile) and an estimated duration. Nothing is reopened, "
                    + "inserted, frozen, written or created.")
    @ApiResponse(responseCode = "200", description = "What a start would do")
    @ApiResponse(responseCode = "400", description = "As POST /jobs/stream")
    @ApiResponse(responseCode = "404", description = "The device or a named node does not exist")
    @ApiResponse(responseCode = "409", description = "Job id in use or a node of the chain busy with another job: "
            + "the start would fail")
    ResponseEntity<StreamPlanResponse> planStreamJob(@Valid @RequestBody StartStreamRequest request) {
        return ResponseEntity.ok(StreamPlanResponse.of(launcher.dryRun(request.toStreamRequest())));
    }

    @GetMapping
    @Operation(operationId = "listStreamJobs", summary = "Stream jobs, running and recently finished "
            + "(query-block-jobs)",
            description = "In creation order, paged with a cursor: a Link header with rel=\"next\" when more follow. "
                    + "Dismissed jobs stay listed with status 'null' for a while (blockpull.jobs.history-*).")
    @ApiResponse(responseCode = "200", description = "One page of jobs",
            headers = @Header(name = "Link", description = "<...pageToken=...>; rel=\"next\" when more follow"))
    @ApiResponse(responseCode = "400", description = "Unknown status or query parameter, bad pageSize or pageToken")
    ResponseEntity<List<JobResponse>> listStreamJobs(HttpServletRequest http,
            @Parameter(description = "Only jobs in these statuses (comma-separated or repeated)", example = "running")
            @RequestParam(required = false) @Nullable List<String> status,
            @Parameter(description = "Only jobs on these device nodes (comma-separated or repeated)", example = "top")
            @RequestParam(required = false) @Nullable List<String> device,
            @Parameter(description = "Items per page, 1..1000")
            @RequestParam(defaultValue = "" + Paging.DEFAULT_PAGE_SIZE) @Min(1) @Max(Paging.MAX_PAGE_SIZE) int pageSize,
            @Parameter(description = "Cursor from the previous page's Link header")
            @RequestParam(required = false) @Nullable String pageToken) {
        JobQueries.onlyKnownParameters(http, LIST_PARAMETERS);
        Paging.Page<JobView> page = jobs.list(JobQueries.STREAM, JobQueries.statuses(status),
                JobQueries.devices(device), pageSize, pageToken);
        return ResponseEntity.ok().headers(page.headers(pageSize))
                .body(page.items().stream().map(JobResponse::of).toList());
    }

    @GetMapping("/{id}")
    @Operation(operationId = "getStreamJob", summary = "One stream job, now or once it reaches a status",
            description = "Stays readable after it is dismissed (status 'null', with its result) for a while. With "
                    + "?waitFor=STATUS the answer waits, without polling, until the job reaches that status or has "
                    + "finished (concluded or dismissed), or until ?timeout= (default 30s, at most 5m) passes; "
                    + "either way the body is the job as it is then: compare its status.")
    @ApiResponse(responseCode = "200", description = "The job",
            headers = {@Header(name = "ETag", description = "Version of the job"),
                    @Header(name = "Retry-After", description = "1, while the job has not concluded")})
    @ApiResponse(responseCode = "400", description = "An unknown status in waitFor, a bad timeout, or a timeout "
            + "without waitFor")
    @ApiResponse(responseCode = "404", description = "No such job")
    DeferredResult<ResponseEntity<JobResponse>> getStreamJob(@PathVariable String id,
            @Parameter(description = "Answer once the job has this status (or has finished)", example = "concluded")
            @RequestParam(required = false) @Nullable String waitFor,
            @Parameter(description = "Longest wait with waitFor: 30s, 500ms, 2m (default 30s, at most 5m)",
                    example = "30s")
            @RequestParam(required = false) @Nullable String timeout) {
        if (waitFor == null) {
            if (timeout != null) {
                throw new ApiException(ProblemType.INVALID_ARGUMENT, "?timeout= only goes with ?waitFor=STATUS");
            }
            DeferredResult<ResponseEntity<JobResponse>> now = new DeferredResult<>();
            now.setResult(jobAnswer(jobs.get(JobQueries.STREAM, id)));
            return now;
        }
        JobStatus wanted = JobWaits.status(waitFor);
        Duration limit = JobWaits.timeout(timeout);
        // The request outlives the wait by a margin, so the wait's own answer always wins.
        DeferredResult<ResponseEntity<JobResponse>> answer = new DeferredResult<>(limit.plusSeconds(30).toMillis());
        waits.until(JobQueries.STREAM, id, wanted, limit).whenComplete((job, failure) -> {
            if (failure != null) {
                answer.setErrorResult(failure instanceof CompletionException ? failure.getCause() : failure);
            } else {
                answer.setResult(jobAnswer(job));
            }
        });
        return answer;
    }

    private static ResponseEntity<JobResponse> jobAnswer(JobView job) {
        ResponseEntity.BodyBuilder ok = ResponseEntity.ok().eTag(JobQueries.etag(job));
        if (!terminal(job)) {
            ok.header(HttpHeaders.RETRY_AFTER, "1");
        }
        return ok.body(JobResponse.of(job));
    }

    @PatchMapping(path = "/{id}", consumes = {MERGE_PATCH_JSON, MediaType.APPLICATION_JSON_VALUE})
    @Operation(operationId = "setStreamJobSpeed", summary = "Change the speed limit (block-job-set-speed)",
            description = "A JSON merge patch (RFC 7396) of the job; only 'speed' may change. Takes effect at once: "
                    + "raising it or setting 0 wakes a job sleeping on its rate limit.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = {
                    @Content(mediaType = MERGE_PATCH_JSON, schema = @Schema(implementation = JobPatch.class)),
                    @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
                            schema = @Schema(implementation = JobPatch.class))}))
    @ApiResponse(responseCode = "200", description = "The job with its new speed",
            headers = @Header(name = "ETag", description = "Version of the job"))
    @ApiResponse(responseCode = "400", description = "A member other than speed, or a negative or non-integer speed")
    @ApiResponse(responseCode = "409", description = "The job's status does not accept set-speed")
    @JobVerbResponses
    ResponseEntity<JobResponse> setStreamJobSpeed(@PathVariable String id,
            @RequestBody(required = false) @Parameter(hidden = true) @Nullable JsonNode patch,
            @Parameter(description = "Apply only if the job still has this ETag")
            @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) @Nullable String ifMatch) {
        Long speed = JobPatch.speedOf(patch);
        return verb(id, ifMatch, HttpStatus.OK, v -> speed == null ? v : scheduler.setSpeed(id, speed));
    }

    @PostMapping("/{id}/pause")
    @Operation(operationId = "pauseStreamJob", summary = "Pause the job (job-pause)",
            description = "Accepted at once (paused=true); the job parks at its next pause point (status 'paused').")
    @ApiResponse(responseCode = "202", description = "Pause requested; the body is the job now",
            headers = @Header(name = "ETag", description = "Version of the job"))
    @ApiResponse(responseCode = "409", description = "Already paused, or the job's status does not accept pause")
    @JobVerbResponses
    ResponseEntity<JobResponse> pauseStreamJob(@PathVariable String id,
            @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) @Nullable String ifMatch,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
            @RequestHeader(name = IdempotencyKeys.HEADER, required = false) @Nullable String idempotencyKey) {
        return idempotency.run(idempotencyKey, List.of("POST pause", id),
                () -> verb(id, ifMatch, HttpStatus.ACCEPTED, v -> scheduler.pause(id)));
    }

    @PostMapping("/{id}/resume")
    @Operation(operationId = "resumeStreamJob", summary = "Resume a paused job (job-resume)",
            description = "Also resets ioStatus after an error stop, so the job retries the failed request.")
    @ApiResponse(responseCode = "200", description = "Resumed; the body is the job",
            headers = @Header(name = "ETag", description = "Version of the job"))
    @ApiResponse(responseCode = "409", description = "Not paused, or the job's status does not accept resume")
    @JobVerbResponses
    ResponseEntity<JobResponse> resumeStreamJob(@PathVariable String id,
            @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) @Nullable String ifMatch,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
            @RequestHeader(name = IdempotencyKeys.HEADER, required = false) @Nullable String idempotencyKey) {
        return idempotency.run(idempotencyKey, List.of("POST resume", id),
                () -> verb(id, ifMatch, HttpStatus.OK, v -> scheduler.resume(id)));
    }

    @PostMapping("/{id}/cancel")
    @Operation(operationId = "cancelStreamJob", summary = "Cancel the job (block-job-cancel / job-cancel)",
            description = "The chain stays as it was before the job. Without force a user-paused job refuses, as "
                    + "block-job-cancel does; force=true cancels it anyway (resuming it first). A job waiting in "
                    + "'pending' aborts.")
    @ApiResponse(responseCode = "202", description = "Cancel requested; the job concludes with result 'cancelled'",
            headers = @Header(name = "ETag", description = "Version of the job"))
    @ApiResponse(responseCode = "409", description = "The job is paused (without force) or its status does not "
            + "accept cancel")
    @JobVerbResponses
    ResponseEntity<JobResponse> cancelStreamJob(@PathVariable String id,
            @Parameter(description = "Cancel even a user-paused job")
            @RequestParam(defaultValue = "false") boolean force,
            @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) @Nullable String ifMatch,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
            @RequestHeader(name = IdempotencyKeys.HEADER, required = false) @Nullable String idempotencyKey) {
        return idempotency.run(idempotencyKey, List.of("POST cancel", id, force),
                () -> verb(id, ifMatch, HttpStatus.ACCEPTED, v -> scheduler.blockJobCancel(id, force)));
    }

    @PostMapping("/{id}/finalize")
    @Operation(operationId = "finalizeStreamJob", summary = "Finalize a pending job (job-finalize)",
            description = "For jobs started with autoFinalize=false: runs the graph changes (drop the filter, re-point "
                    + "the backing link, rewrite the header) and concludes the job.")
    @ApiResponse(responseCode = "200", description = "Finalized; the body is the job",
            headers = @Header(name = "ETag", description = "Version of the job"))
    @ApiResponse(responseCode = "409", description = "The job is not pending")
    @JobVerbResponses
    ResponseEntity<JobResponse> finalizeStreamJob(@PathVariable String id,
            @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) @Nullable String ifMatch,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
            @RequestHeader(name = IdempotencyKeys.HEADER, required = false) @Nullable String idempotencyKey) {
        return idempotency.run(idempotencyKey, List.of("POST finalize", id),
                () -> verb(id, ifMatch, HttpStatus.OK, v -> scheduler.finalizeJob(id)));
    }

    @PostMapping("/{id}/dismiss")
    @Operation(operationId = "dismissStreamJob", summary = "Dismiss a concluded job (job-dismiss)",
            description = "For jobs started with autoDismiss=false. The job id is free again; the job stays readable "
                    + "with status 'null' for a while.")
    @ApiResponse(responseCode = "200", description = "Dismissed; the body is the job's final record",
            headers = @Header(name = "ETag", description = "Version of the job"))
    @ApiResponse(responseCode = "409", description = "The job has not concluded")
    @JobVerbResponses
    ResponseEntity<JobResponse> dismissStreamJob(@PathVariable String id,
            @RequestHeader(name = HttpHeaders.IF_MATCH, required = false) @Nullable String ifMatch,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
            @RequestHeader(name = IdempotencyKeys.HEADER, required = false) @Nullable String idempotencyKey) {
        return idempotency.run(idempotencyKey, List.of("POST dismiss", id),
                () -> verb(id, ifMatch, HttpStatus.OK, v -> scheduler.dismiss(id)));
    }

    /**
     * Looks the job up (404 for other types), checks If-Match, applies the verb. The check and
     * the verb are not atomic: a change in between is not detected, as with any ETag over a
     * resource that also changes by itself.
     */
    private ResponseEntity<JobResponse> verb(String id, @Nullable String ifMatch, HttpStatus status,
                                             Function<JobView, JobView> action) {
        JobView current = jobs.get(JobQueries.STREAM, id);
        JobQueries.checkIfMatch(ifMatch, current);
        JobView after = action.apply(current);
        // A user pause or a new speed is on disk before the answer; status changes come as events too.
        recorder.jobChanged();
        return ResponseEntity.status(status).eTag(JobQueries.etag(after)).body(JobResponse.of(after));
    }

    private static boolean terminal(JobView job) {
        return switch (job.status()) {
            case CONCLUDED, NULL -> true;
            default -> false;
        };
    }

    private static URI location(String id) {
        return UriComponentsBuilder.fromPath("/jobs/stream/{id}").buildAndExpand(id).encode().toUri();
    }
}
