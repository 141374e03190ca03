package dev.blockpull.api.job;

import dev.blockpull.api.Paging;
import dev.blockpull.job.JobView;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /jobs}: every job of every type (query-jobs), running and recently finished. */
@RestController
@RequestMapping("/jobs")
@Tag(name = "jobs", description = "Jobs of every type (query-jobs)")
class JobController {

    private static final Set<String> PARAMETERS = Set.of("status", "type", "device", "pageSize", "pageToken");

    private final JobQueries jobs;

    JobController(JobQueries jobs) {
        this.jobs = jobs;
    }

    @GetMapping
    @Operation(
            operationId = "listJobs",
            summary = "Every job of every type (query-jobs)",
            description = "In creation order, paged with a cursor: a Link header with rel=\"next\" when more follow. "
                    + "Dismissed jobs stay listed with status 'null' for a while.")
    @ApiResponse(
            responseCode = "200",
            description = "One page of jobs",
            headers = @Header(name = "Link", description = "<...pageToken=...>; rel=\"next\" when more follow"))
    @ApiResponse(
            responseCode = "400",
            description = "Unknown status, type or query parameter, bad pageSize or pageToken")
    ResponseEntity<List<JobResponse>> listJobs(
            HttpServletRequest http,
            @Parameter(description = "Only jobs in these statuses (comma-separated or repeated)", example = "running")
                    @RequestParam(required = false)
                    @Nullable
                    List<String> status,
            @Parameter(description = "Only jobs of this type", example = "stream")
                    @RequestParam(required = false)
                    @Nullable
                    String type,
            @Parameter(description = "Only jobs on these device nodes (comma-separated or repeated)")
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
        JobQueries.onlyKnownParameters(http, PARAMETERS);
        Paging.Page<JobView> page = jobs.list(
                JobQueries.type(type), JobQueries.statuses(status), JobQueries.devices(device), pageSize, pageToken);
        return ResponseEntity.ok()
                .headers(page.headers(pageSize))
                .body(page.items().stream().map(JobResponse::of).toList());
    }
}
