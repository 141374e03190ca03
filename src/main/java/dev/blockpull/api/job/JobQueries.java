package dev.blockpull.api.job;

import dev.blockpull.api.ApiException;
import dev.blockpull.api.EntityTags;
import dev.blockpull.api.Paging;
import dev.blockpull.api.ProblemType;
import dev.blockpull.job.JobNotFoundException;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;

/**
 * What the job controllers share: lookups by type, list filters and paging, and the ETag /
 * If-Match rules (conventions §4).
 */
@Component
class JobQueries {

    static final String STREAM = "stream";

    /** QEMU's JobType values; a type filter outside them is a typo, answered with 400. */
    static final List<String> JOB_TYPES = List.of(
            "commit",
            "stream",
            "mirror",
            "backup",
            "create",
            "amend",
            "snapshot-load",
            "snapshot-save",
            "snapshot-delete");

    private final JobScheduler scheduler;

    JobQueries(JobScheduler scheduler) {
        this.scheduler = scheduler;
    }

    /** A job of this type, live or in the history; else block-job-*'s "Block job 'J' not found" (404). */
    JobView get(String type, String id) {
        JobView job = scheduler.get(id);
        if (!job.type().equals(type)) {
            throw new JobNotFoundException(id);
        }
        return job;
    }

    /** Jobs matching the filters, in creation order (then id), one page of them. */
    Paging.Page<JobView> list(
            @Nullable String type,
            Set<JobStatus> statuses,
            Set<String> devices,
            int pageSize,
            @Nullable String pageToken) {
        List<JobView> matching = new ArrayList<>();
        for (JobView job : scheduler.list()) {
            if ((type == null || job.type().equals(type))
                    && (statuses.isEmpty() || statuses.contains(job.status()))
                    && (devices.isEmpty() || devices.contains(job.device()))) {
                matching.add(job);
            }
        }
        return Paging.page(matching, JobQueries::sortKey, pageSize, pageToken);
    }

    /**
     * The paging cursor: creation time (fixed width, so strings sort like instants), then id, the
     * order the scheduler lists in.
     */
    static String sortKey(JobView job) {
        return String.format(
                "%019d%09d/%s",
                job.createdAt().getEpochSecond(), job.createdAt().getNano(), job.id());
    }

    /** Statuses from {@code ?status=a,b} or {@code ?status=a&status=b}; unknown names are 400. */
    static Set<JobStatus> statuses(@Nullable List<String> values) {
        Set<JobStatus> statuses = EnumSet.noneOf(JobStatus.class);
        for (String name : split(values)) {
            try {
                statuses.add(JobStatus.fromQmpName(name));
            } catch (IllegalArgumentException e) {
                throw new ApiException(
                        ProblemType.INVALID_ARGUMENT,
                        "Unknown job status '" + name + "' in ?status=; "
                                + "use one of "
                                + Arrays.stream(JobStatus.values())
                                        .map(JobStatus::qmpName)
                                        .collect(Collectors.joining(", ")));
            }
        }
        return statuses;
    }

    /** A type filter: one of QEMU's job types, else 400. */
    static @Nullable String type(@Nullable String type) {
        if (type == null || type.isEmpty()) {
            return null;
        }
        if (!JOB_TYPES.contains(type)) {
            throw new ApiException(
                    ProblemType.INVALID_ARGUMENT,
                    "Unknown job type '" + type + "' in ?type=; use one of " + String.join(", ", JOB_TYPES));
        }
        return type;
    }

    static Set<String> devices(@Nullable List<String> values) {
        return new LinkedHashSet<>(split(values));
    }

    /** A misspelt filter (?stauts=) must not silently list everything. */
    static void onlyKnownParameters(HttpServletRequest request, Set<String> known) {
        for (String name : request.getParameterMap().keySet()) {
            if (!known.contains(name)) {
                throw new ApiException(
                        ProblemType.INVALID_ARGUMENT,
                        "Unknown query parameter '" + name + "'; known: "
                                + known.stream().sorted().collect(Collectors.joining(", ")));
            }
        }
    }

    /** Values of {@code ?name=a,b} or {@code ?name=a&name=b}, blanks dropped. */
    static List<String> split(@Nullable List<String> values) {
        List<String> out = new ArrayList<>();
        if (values != null) {
            for (String v : values) {
                for (String part : v.split(",")) {
                    if (!part.isBlank()) {
                        out.add(part.trim());
                    }
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- ETag / If-Match

    /**
     * A strong ETag from the job's version counter, with its creation time so that a new job that
     * reuses a dismissed job's id never matches the old job's tag.
     */
    static String etag(JobView job) {
        return EntityTags.quote(job.version() + "-" + job.createdAt().toEpochMilli());
    }

    /** RFC 9110 If-Match against the job's ETag; mismatch: 412. */
    static void checkIfMatch(@Nullable String ifMatch, JobView job) {
        EntityTags.checkIfMatch(ifMatch, etag(job), "Job '" + job.id() + "'");
    }
}
