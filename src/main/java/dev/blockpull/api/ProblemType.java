package dev.blockpull.api;

import dev.blockpull.io.BlockErrorKind;
import java.net.URI;
import org.springframework.http.HttpStatus;

/**
 * Every kind of problem the API answers with: a stable absolute {@code type} URI, a fixed
 * {@code title} and the HTTP status. Clients may switch on the URI; it need not resolve.
 */
public enum ProblemType {
    // Block layer errors, one per BlockErrorKind.
    INVALID_ARGUMENT("invalid-argument", "Invalid argument", HttpStatus.BAD_REQUEST),
    INVALID_IMAGE("invalid-image", "Invalid image", HttpStatus.BAD_REQUEST),
    UNSUPPORTED_FEATURE("unsupported-feature", "Unsupported feature", HttpStatus.BAD_REQUEST),
    NOT_FOUND("not-found", "Not found", HttpStatus.NOT_FOUND),
    CONFLICT("conflict", "Conflict", HttpStatus.CONFLICT),
    /*
     * 409, not 400: the request is well-formed, the target is in a state (opened or stored
     * read-only) that forbids it; QEMU's "Block node is read-only" is a state error too.
     */
    READ_ONLY("read-only", "Read-only", HttpStatus.CONFLICT),
    IO_ERROR("io-error", "I/O error", HttpStatus.INTERNAL_SERVER_ERROR),
    NO_SPACE("no-space", "No space left on device", HttpStatus.INSUFFICIENT_STORAGE),

    // Errors of the HTTP layer itself.
    MALFORMED_BODY("malformed-body", "Malformed request body", HttpStatus.BAD_REQUEST),
    UNKNOWN_FIELD("unknown-field", "Unknown field in request body", HttpStatus.BAD_REQUEST),
    VALIDATION_FAILED("validation-failed", "Request validation failed", HttpStatus.BAD_REQUEST),
    BAD_REQUEST("bad-request", "Bad request", HttpStatus.BAD_REQUEST),
    UNAUTHORIZED("unauthorized", "Unauthorized", HttpStatus.UNAUTHORIZED),
    FORBIDDEN("forbidden", "Forbidden", HttpStatus.FORBIDDEN),
    NO_SUCH_RESOURCE("no-such-resource", "No such resource", HttpStatus.NOT_FOUND),
    METHOD_NOT_ALLOWED("method-not-allowed", "Method not allowed", HttpStatus.METHOD_NOT_ALLOWED),
    NOT_ACCEPTABLE("not-acceptable", "Not acceptable", HttpStatus.NOT_ACCEPTABLE),
    PRECONDITION_FAILED("precondition-failed", "Precondition failed", HttpStatus.PRECONDITION_FAILED),
    PAYLOAD_TOO_LARGE("payload-too-large", "Request body too large", HttpStatus.CONTENT_TOO_LARGE),
    UNSUPPORTED_MEDIA_TYPE("unsupported-media-type", "Unsupported media type", HttpStatus.UNSUPPORTED_MEDIA_TYPE),
    UNPROCESSABLE("unprocessable", "Unprocessable request", HttpStatus.UNPROCESSABLE_CONTENT),
    SERVICE_UNAVAILABLE("service-unavailable", "Service unavailable", HttpStatus.SERVICE_UNAVAILABLE),
    INTERNAL_ERROR("internal-error", "Internal error", HttpStatus.INTERNAL_SERVER_ERROR);

    private static final String BASE = "https://blockpull.dev/problems/";

    private final URI type;
    private final String title;
    private final HttpStatus status;

    ProblemType(String slug, String title, HttpStatus status) {
        this.type = URI.create(BASE + slug);
        this.title = title;
        this.status = status;
    }

    public URI type() {
        return type;
    }

    public String title() {
        return title;
    }

    public HttpStatus status() {
        return status;
    }

    /** The one place a block-layer error kind becomes an HTTP status. */
    public static ProblemType of(BlockErrorKind kind) {
        return switch (kind) {
            case INVALID_ARGUMENT -> INVALID_ARGUMENT;
            case INVALID_IMAGE -> INVALID_IMAGE;
            case UNSUPPORTED -> UNSUPPORTED_FEATURE;
            case NOT_FOUND -> NOT_FOUND;
            case CONFLICT -> CONFLICT;
            case READ_ONLY -> READ_ONLY;
            case IO_ERROR -> IO_ERROR;
            case NO_SPACE -> NO_SPACE;
        };
    }

    /** For Spring's own exceptions, which only carry a status. */
    static ProblemType forStatus(int status) {
        return switch (status) {
            case 400 -> BAD_REQUEST;
            case 401 -> UNAUTHORIZED;
            case 403 -> FORBIDDEN;
            case 404 -> NO_SUCH_RESOURCE;
            case 405 -> METHOD_NOT_ALLOWED;
            case 406 -> NOT_ACCEPTABLE;
            case 409 -> CONFLICT;
            case 412 -> PRECONDITION_FAILED;
            case 413 -> PAYLOAD_TOO_LARGE;
            case 415 -> UNSUPPORTED_MEDIA_TYPE;
            case 422 -> UNPROCESSABLE;
            case 503 -> SERVICE_UNAVAILABLE;
            default -> status >= 500 ? INTERNAL_ERROR : BAD_REQUEST;
        };
    }
}
