package dev.blockpull.api;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.DataRoot;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.tomcat.util.http.InvalidParameterException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.MessageSourceResolvable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.validation.FieldError;
import org.springframework.validation.method.ParameterValidationResult;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.HandlerMethodValidationException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

/**
 * Turns every exception that leaves a controller into an RFC 9457 problem: block-layer errors by
 * their {@link BlockErrorKind} (mapped once, in {@link ProblemType#of}), Spring MVC's own errors
 * (unreadable JSON, unknown fields, 405, 415, validation) by their status. Each body carries the
 * contract's {@code errorClass}; none carries a stack trace.
 */
@RestControllerAdvice
class ApiExceptionHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ApiExceptionHandler.class);

    private final DataRoot dataRoot;

    ApiExceptionHandler(DataRoot dataRoot) {
        this.dataRoot = dataRoot;
    }

    @ExceptionHandler(BlockException.class)
    ResponseEntity<Object> handleBlockException(BlockException e, WebRequest request) {
        ProblemType type = ProblemType.of(e.kind());
        if (type.status().is5xxServerError()) {
            log.error("{} on {}: {}", e.kind(), path(request), e.getMessage(), e);
        } else {
            log.debug("{} on {}: {}", e.kind(), path(request), e.getMessage());
        }
        String detail = e.getMessage() != null ? e.getMessage() : type.title();
        return problem(Problems.create(type, QmpErrorClass.of(e), detail), request);
    }

    /** Anything unforeseen: logged with its stack trace here, answered without it. */
    @ExceptionHandler(Exception.class)
    ResponseEntity<Object> handleUnexpected(Exception e, WebRequest request) {
        PayloadTooLargeException tooLarge = findCause(e, PayloadTooLargeException.class);
        if (tooLarge != null) {
            return problem(
                    Problems.create(ProblemType.PAYLOAD_TOO_LARGE, QmpErrorClass.GENERIC_ERROR, tooLarge.getMessage()),
                    request);
        }
        InvalidParameterException badQuery = findCause(e, InvalidParameterException.class);
        if (badQuery != null) {
            // Tomcat could not decode the query string (e.g. %ff is no UTF-8): the client's mistake
            return problem(
                    Problems.create(
                            ProblemType.BAD_REQUEST,
                            QmpErrorClass.GENERIC_ERROR,
                            "The query string could not be decoded; percent-encode parameters as UTF-8"),
                    request);
        }
        log.error("Unexpected error on {}", path(request), e);
        return problem(
                Problems.create(
                        ProblemType.INTERNAL_ERROR,
                        QmpErrorClass.GENERIC_ERROR,
                        "Internal error (" + e.getClass().getSimpleName() + "); the server log has the details"),
                request);
    }

    @Override
    protected @Nullable ResponseEntity<Object> handleHttpMessageNotReadable(
            HttpMessageNotReadableException e, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        PayloadTooLargeException tooLarge = findCause(e, PayloadTooLargeException.class);
        if (tooLarge != null) {
            return problem(
                    Problems.create(ProblemType.PAYLOAD_TOO_LARGE, QmpErrorClass.GENERIC_ERROR, tooLarge.getMessage()),
                    request);
        }
        return problem(unreadable(e), request);
    }

    @Override
    protected @Nullable ResponseEntity<Object> handleMethodArgumentNotValid(
            MethodArgumentNotValidException e, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        List<Map<String, String>> errors = new ArrayList<>();
        for (FieldError fe : e.getBindingResult().getFieldErrors()) {
            errors.add(fieldError(fe.getField(), fe.getDefaultMessage()));
        }
        e.getBindingResult()
                .getGlobalErrors()
                .forEach(ge -> errors.add(fieldError(ge.getObjectName(), ge.getDefaultMessage())));
        return problem(validationProblem(errors), request);
    }

    @Override
    protected @Nullable ResponseEntity<Object> handleHandlerMethodValidationException(
            HandlerMethodValidationException e, HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        List<Map<String, String>> errors = new ArrayList<>();
        for (ParameterValidationResult result : e.getParameterValidationResults()) {
            String name = result.getMethodParameter().getParameterName();
            for (MessageSourceResolvable error : result.getResolvableErrors()) {
                errors.add(fieldError(name != null ? name : "parameter", error.getDefaultMessage()));
            }
        }
        for (MessageSourceResolvable error : e.getCrossParameterValidationResults()) {
            errors.add(fieldError("request", error.getDefaultMessage()));
        }
        return problem(validationProblem(errors), request);
    }

    /**
     * Every Spring MVC exception ends here with Spring's problem body: give it our type, fixed
     * title, instance and errorClass. Bodies that already carry a type (ApiException) keep it.
     */
    @Override
    protected ResponseEntity<Object> handleExceptionInternal(
            Exception e, @Nullable Object body, HttpHeaders headers, HttpStatusCode statusCode, WebRequest request) {
        ProblemDetail problem = body instanceof ProblemDetail pd
                ? pd
                : e instanceof ErrorResponse er
                        ? er.getBody()
                        : ProblemDetail.forStatusAndDetail(statusCode, statusCode.toString());
        if (problem.getType() == null || "about:blank".equals(problem.getType().toString())) {
            ProblemType type = ProblemType.forStatus(problem.getStatus());
            problem.setType(type.type());
            problem.setTitle(type.title());
        }
        if (problem.getDetail() == null || problem.getDetail().isBlank()) {
            problem.setDetail(problem.getTitle());
        }
        Map<String, Object> properties = problem.getProperties();
        if (properties == null || !properties.containsKey(Problems.ERROR_CLASS)) {
            problem.setProperty(Problems.ERROR_CLASS, QmpErrorClass.GENERIC_ERROR.qmpName());
        }
        if (statusCode.is5xxServerError()) {
            log.error("{} on {}: {}", statusCode, path(request), e.getMessage(), e);
        }
        withInstance(problem, request);
        hideHostPaths(problem);
        return super.handleExceptionInternal(e, problem, headers, statusCode, request);
    }

    private ResponseEntity<Object> problem(ProblemDetail problem, WebRequest request) {
        withInstance(problem, request);
        hideHostPaths(problem);
        return ResponseEntity.status(problem.getStatus()).body(problem);
    }

    /** Messages from the block layer and the JDK name files by absolute path: no response shows one. */
    private void hideHostPaths(ProblemDetail problem) {
        String detail = problem.getDetail();
        if (detail != null) {
            problem.setDetail(dataRoot.hidePaths(detail));
        }
    }

    private static ProblemDetail validationProblem(List<Map<String, String>> errors) {
        String detail = errors.isEmpty()
                ? "The request is invalid"
                : errors.stream()
                        .map(m -> m.get("field") + ": " + m.get("message"))
                        .collect(Collectors.joining("; ", "Invalid request: ", ""));
        ProblemDetail problem = Problems.create(ProblemType.VALIDATION_FAILED, QmpErrorClass.GENERIC_ERROR, detail);
        problem.setProperty(Problems.ERRORS, errors);
        return problem;
    }

    private static Map<String, String> fieldError(String field, @Nullable String message) {
        return Map.of("field", field, "message", message != null ? message : "is invalid");
    }

    /** Says what was wrong with the body in JSON terms, without Java class names where possible. */
    private static ProblemDetail unreadable(HttpMessageNotReadableException e) {
        UnrecognizedPropertyException unknown = findCause(e, UnrecognizedPropertyException.class);
        if (unknown != null) {
            String detail = "Unknown field '" + pathOf(unknown, unknown.getPropertyName()) + "' in the request body";
            Collection<Object> known = unknown.getKnownPropertyIds();
            if (known != null && !known.isEmpty()) {
                detail += "; known fields: "
                        + known.stream().map(String::valueOf).sorted().collect(Collectors.joining(", "));
            }
            return Problems.create(ProblemType.UNKNOWN_FIELD, QmpErrorClass.GENERIC_ERROR, detail);
        }
        MismatchedInputException mismatch = findCause(e, MismatchedInputException.class);
        if (mismatch != null) {
            String field = pathOf(mismatch, null);
            String detail = field.isEmpty()
                    ? "The request body must be a JSON object: " + mismatch.getOriginalMessage()
                    : "Invalid value for field '" + field + "'" + expected(mismatch.getTargetType());
            return Problems.create(ProblemType.MALFORMED_BODY, QmpErrorClass.GENERIC_ERROR, detail);
        }
        StreamReadException syntax = findCause(e, StreamReadException.class);
        if (syntax != null) {
            TokenStreamLocation at = syntax.getLocation();
            String where = at != null ? " at line " + at.getLineNr() + ", column " + at.getColumnNr() : "";
            return Problems.create(
                    ProblemType.MALFORMED_BODY,
                    QmpErrorClass.GENERIC_ERROR,
                    "Malformed JSON" + where + ": " + syntax.getOriginalMessage());
        }
        JacksonException other = findCause(e, JacksonException.class);
        if (other != null) {
            // e.g. a record constructor refusing a value: its message is meant for the caller
            Throwable root = other.getCause() != null ? other.getCause() : other;
            String message = root instanceof JacksonException je ? je.getOriginalMessage() : root.getMessage();
            return Problems.create(
                    ProblemType.MALFORMED_BODY, QmpErrorClass.GENERIC_ERROR, "Invalid request body: " + message);
        }
        String message = e.getMessage();
        String detail = message != null && message.startsWith("Required request body is missing")
                ? "The request body is missing; send a JSON object"
                : "The request body could not be read as JSON";
        return Problems.create(ProblemType.MALFORMED_BODY, QmpErrorClass.GENERIC_ERROR, detail);
    }

    private static String expected(@Nullable Class<?> target) {
        if (target == null) {
            return "";
        }
        if (Number.class.isAssignableFrom(target) || target == int.class || target == long.class) {
            return ": expected an integer number";
        }
        if (target == Boolean.class || target == boolean.class) {
            return ": expected true or false";
        }
        if (target == String.class) {
            return ": expected a string";
        }
        if (target.isEnum()) {
            return ": expected one of "
                    + java.util.Arrays.stream(target.getEnumConstants())
                            .map(String::valueOf)
                            .collect(Collectors.joining(", "));
        }
        return ": expected " + (Collection.class.isAssignableFrom(target) ? "an array" : "an object");
    }

    /** {@code backing.file.filename}-style path of the failing member. */
    private static String pathOf(JacksonException e, @Nullable String leaf) {
        StringBuilder sb = new StringBuilder();
        for (JacksonException.Reference ref : e.getPath()) {
            if (ref.getPropertyName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(ref.getPropertyName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        if (sb.isEmpty() && leaf != null) {
            return leaf;
        }
        return sb.toString();
    }

    private static void withInstance(ProblemDetail problem, WebRequest request) {
        if (problem.getInstance() == null) {
            Problems.setInstance(problem, path(request));
        }
    }

    private static String path(WebRequest request) {
        if (request instanceof ServletWebRequest swr) {
            HttpServletRequest http = swr.getRequest();
            return http.getRequestURI();
        }
        return "";
    }

    private static <T extends Throwable> @Nullable T findCause(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }
}
