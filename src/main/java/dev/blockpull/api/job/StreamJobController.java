package dev.blockpull.api.job;

import dev.blockpull.api.IdempotencyKeys;
import dev.blockpull.api.Paging;
import dev.blockpull.job.JobView;
import dev.blockpull.stream.StreamLauncher;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import java.net.URI;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.util.UriComponentsBuilder;

/**
 * {@code /jobs/stream}: QMP's block-stream, its dry run, and the stream jobs (the verbs on them are
 * {@link StreamJobVerbController}'s). Every response carrying a job carries its ETag.
 */
@RestController
@RequestMapping("/jobs/stream")
@Tag(
        name = "stream jobs",
        description = "block-stream and the job verbs (job-pause, job-resume, job-cancel, "
                + "job-finalize, job-dismiss, block-job-set-speed)")
class StreamJobController {

    private static final Set<String> LIST_PARAMETERS = Set.of("status", "device", "pageSize", "pageToken");

    private final StreamLauncher launcher;
    private final JobQueries jobs;
    private final IdempotencyKeys idempotency;
    private final JobWaits waits;

    StreamJobController(StreamLauncher launcher, JobQueries jobs, IdempotencyKeys idempotency, JobWaits waits) {
        this.launcher = launcher;
        this.jobs = jobs;
        this.idempotency = idempotency;
        this.waits = waits;
    }

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(
            operationId = "startStreamJob",
            summary = "Start a stream job (block-stream)",
            description = "Copies the data of the backing chain between device and base (or bottom) into the device "
                    + "and then drops those layers from its chain. Every argument is checked first, in QEMU's order "
                    + "and with QEMU's messages; on any failure nothing is created. The job is running when this "
                    + "returns; follow it at its Location, or on /jobs/events.")
    @ApiResponse(
            responseCode = "201",
            description = "Started; the body is the job",
            headers = {
                @Header(name = "Location", description = "/jobs/stream/{id}"),
                @Header(name = "ETag", description = "Version of the job")
            })
    @ApiResponse(
            responseCode = "400",
            description = "Contradictory or invalid arguments (base and baseNode, a base "
                    + "not below the device, an invalid job id, negative speed, unknown fields, ...)")
    @ApiResponse(responseCode = "404", description = "The device or a named node does not exist")
    @ApiResponse(responseCode = "409", description = "Job id in use, or a node of the chain busy with another job")
    ResponseEntity<JobResponse> startStreamJob(
            @Valid @RequestBody StartStreamRequest request,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
                    @RequestHeader(name = IdempotencyKeys.HEADER, required = false)
                    @Nullable
                    String idempotencyKey) {
        return idempotency.run(idempotencyKey, List.of("POST /jobs/stream", request), () -> {
            JobView job = launcher.start(request.toStreamRequest());
            return ResponseEntity.created(location(job.id()))
                    .eTag(JobQueries.etag(job))
                    .body(JobResponse.of(job));
        });
    }

    @PostMapping(path = "/plan", consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(
            operationId = "planStreamJob",
            summary = "Dry run of a stream start: what it would do",
            description = "Takes the body of POST /jobs/stream and runs the same checks, failing with the same "
                    + "problems (a jobId in use is 409, as the start would be), then answers what the start would do: "
                    + "the nodes that would leave the chain, the new backing file string, the bytes and extents to "
                    + "copy (the job's own block-status decision, so a job started right after copies exactly "
                    + "bytesToCopy unless a client writes meanwhile) and an estimated duration. Nothing is reopened, "
                    + "inserted, frozen, written or created.")
    @ApiResponse(responseCode = "200", description = "What a start would do")
    @ApiResponse(responseCode = "400", description = "As POST /jobs/stream")
    @ApiResponse(responseCode = "404", description = "The device or a named node does not exist")
    @ApiResponse(
            responseCode = "409",
            description = "Job id in use or a node of the chain busy with another job: the start would fail")
    ResponseEntity<StreamPlanResponse> planStreamJob(@Valid @RequestBody StartStreamRequest request) {
        return ResponseEntity.ok(StreamPlanResponse.of(launcher.dryRun(request.toStreamRequest())));
    }

    @GetMapping
    @Operation(
            operationId = "listStreamJobs",
            summary = "Stream jobs, running and recently finished (query-block-jobs)",
            description = "In creation order, paged with a cursor: a Link header with rel=\"next\" when more follow. "
                    + "Dismissed jobs stay listed with status 'null' for a while (blockpull.jobs.history-*).")
    @ApiResponse(
            responseCode = "200",
            description = "One page of jobs",
            headers = @Header(name = "Link", description = "<...pageToken=...>; rel=\"next\" when more follow"))
    @ApiResponse(responseCode = "400", description = "Unknown status or query parameter, bad pageSize or pageToken")
    ResponseEntity<List<JobResponse>> listStreamJobs(
            HttpServletRequest http,
            @Parameter(description = "Only jobs in these statuses (comma-separated or repeated)", example = "running")
                    @RequestParam(required = false)
                    @Nullable
                    List<String> status,
            @Parameter(description = "Only jobs on these device nodes (comma-separated or repeated)", example = "top")
                    @RequestParam(required = false)
                    @Nullable
                    List<String> device,
            @Parameter(description = "Items per page, 1..1000")
                    @RequestParam(defaultValue = "" + Paging.DEFAULT_PAGE_SIZE)
                    @Min(1)
                    @Max(Paging.MAX_PAGE_SIZE)
                    int pageSize,
            @Parameter(description = "Cursor from the previous page's Link header")
                    @RequestParam(required = false)
                    @Nullable
                    String pageToken) {
        JobQueries.onlyKnownParameters(http, LIST_PARAMETERS);
        Paging.Page<JobView> page = jobs.list(
                JobQueries.STREAM, JobQueries.statuses(status), JobQueries.devices(device), pageSize, pageToken);
        return ResponseEntity.ok()
                .headers(page.headers(pageSize))
                .body(page.items().stream().map(JobResponse::of).toList());
    }

    // Two handlers for one resource: a plain GET answers on the request's thread (no async
    // dispatch, which costs as much again as the request: it is the one polled most), a GET with
    // ?waitFor= is answered later. The document shows them as one operation.
    @GetMapping(path = "/{id}", params = "!waitFor")
    @Operation(
            operationId = "getStreamJob",
            summary = "One stream job, now or once it reaches a status",
            description = "Stays readable after it is dismissed (status 'null', with its result) for a while. With "
                    + "?waitFor=STATUS the answer waits, without polling, until the job reaches that status or has "
                    + "finished (concluded or dismissed), or until ?timeout= (default 30s, at most 5m) passes; "
                    + "either way the body is the job as it is then: compare its status.",
            parameters =
                    @Parameter(
                            name = "waitFor",
                            in = ParameterIn.QUERY,
                            example = "concluded",
                            description = "Answer once the job has this status (or has finished)",
                            schema = @Schema(type = "string")))
    @ApiResponse(
            responseCode = "200",
            description = "The job",
            headers = {
                @Header(name = "ETag", description = "Version of the job"),
                @Header(name = "Retry-After", description = "1, while the job has not concluded")
            })
    @ApiResponse(
            responseCode = "400",
            description = "An unknown status in waitFor, a bad timeout, or a timeout without waitFor")
    @ApiResponse(responseCode = "404", description = "No such job")
    ResponseEntity<JobResponse> getStreamJob(
            @PathVariable String id,
            @Parameter(
                            description = "Longest wait with waitFor: 30s, 500ms, 2m (default 30s, at most 5m)",
                            example = "30s")
                    @RequestParam(required = false)
                    @Nullable
                    String timeout) {
        JobWaits.refuseTimeoutWithoutWait(timeout);
        return jobAnswer(jobs.get(JobQueries.STREAM, id));
    }

    @GetMapping(path = "/{id}", params = "waitFor")
    @Operation(hidden = true) // documented with getStreamJob
    DeferredResult<ResponseEntity<JobResponse>> awaitStreamJob(
            @PathVariable String id,
            @RequestParam String waitFor,
            @RequestParam(required = false) @Nullable String timeout) {
        return waits.answer(JobQueries.STREAM, id, waitFor, timeout, StreamJobController::jobAnswer);
    }

    private static ResponseEntity<JobResponse> jobAnswer(JobView job) {
        ResponseEntity.BodyBuilder ok = ResponseEntity.ok().eTag(JobQueries.etag(job));
        if (!terminal(job)) {
            ok.header(HttpHeaders.RETRY_AFTER, "1");
        }
        return ok.body(JobResponse.of(job));
    }

    private static boolean terminal(JobView job) {
        return switch (job.status()) {
            case CONCLUDED, NULL -> true;
            default -> false;
        };
    }

    private static URI location(String id) {
        return UriComponentsBuilder.fromPath("/jobs/stream/{id}")
                .buildAndExpand(id)
                .encode()
                .toUri();
    }
}
