package dev.blockpull.api.job;

import dev.blockpull.api.ApiException;
import dev.blockpull.api.ProblemType;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/** {@code GET /jobs/events}: QMP's job events as Server-Sent Events. */
@RestController
@Tag(
        name = "job events",
        description = "QMP job events (JOB_STATUS_CHANGE, BLOCK_JOB_COMPLETED, ...) as Server-Sent Events")
class JobEventsController {

    static final String LAST_EVENT_ID = "Last-Event-ID";

    private final JobEventStreams streams;

    JobEventsController(JobEventStreams streams) {
        this.streams = streams;
    }

    @GetMapping(path = "/jobs/events", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    @Operation(
            operationId = "streamJobEvents",
            summary = "Job events as Server-Sent Events",
            description = "Each event has 'event:' = the QMP event name (JOB_STATUS_CHANGE {id, status}, "
                    + "BLOCK_JOB_COMPLETED {type, device, len, offset, speed, error?}, BLOCK_JOB_CANCELLED, "
                    + "BLOCK_JOB_ERROR {device, operation, action}, BLOCK_JOB_PENDING {type, id}, and Blockpull's own "
                    + "JOB_PROGRESS {id, offset, len, bytesPerSecond, etaSeconds} at most once per "
                    + "blockpull.jobs.progress-interval of a running job), 'id:' = a global sequence number and "
                    + "'data:' = the payload as JSON. Reconnect with Last-Event-ID to be replayed what was missed "
                    + "(from a bounded buffer that keeps only the latest JOB_PROGRESS of each job). ?jobId= and "
                    + "?type= keep only the events of those jobs and names (replay included). A comment line every 15 s keeps the "
                    + "stream open; the server closes it after 30 minutes or when a client reads too slowly, "
                    + "and the client reconnects.")
    @ApiResponse(
            responseCode = "200",
            description = "The event stream",
            content =
                    @Content(
                            mediaType = MediaType.TEXT_EVENT_STREAM_VALUE,
                            schema =
                                    @Schema(
                                            type = "string",
                                            example = "event:JOB_STATUS_CHANGE\nid:7\n"
                                                    + "data:{\"id\":\"s1\",\"status\":\"running\"}\n\n")))
    @ApiResponse(responseCode = "400", description = "Last-Event-ID is not a sequence number, or an unknown event type")
    SseEmitter streamJobEvents(
            @Parameter(description = "The id of the last event received; events after it are replayed")
                    @RequestHeader(name = LAST_EVENT_ID, required = false)
                    @Nullable
                    String lastEventId,
            @Parameter(description = "Only events of these jobs (comma-separated or repeated)", example = "s1")
                    @RequestParam(required = false)
                    @Nullable
                    List<String> jobId,
            @Parameter(
                            description = "Only events with these names (comma-separated or repeated)",
                            example = "JOB_STATUS_CHANGE,JOB_PROGRESS")
                    @RequestParam(required = false)
                    @Nullable
                    List<String> type) {
        EventFilter filter = EventFilter.of(jobId, type);
        return streams.open(parse(lastEventId), filter);
    }

    private static @Nullable Long parse(@Nullable String lastEventId) {
        if (lastEventId == null || lastEventId.isBlank()) {
            return null;
        }
        try {
            long id = Long.parseLong(lastEventId.trim());
            if (id < 0) {
                throw new NumberFormatException();
            }
            return id;
        } catch (NumberFormatException e) {
            throw new ApiException(
                    ProblemType.INVALID_ARGUMENT,
                    "Last-Event-ID '" + lastEventId + "' is not an event "
                            + "id of this server: send the id: of the last event you received");
        }
    }
}
