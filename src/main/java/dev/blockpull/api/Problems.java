package dev.blockpull.api;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.http.ProblemDetail;

/** Builds RFC 9457 bodies the same way for the exception handler and for servlet filters. */
public final class Problems {

    /** Extension member carrying the QMP error class. */
    public static final String ERROR_CLASS = "errorClass";
    /** Extension member listing field errors of a failed validation. */
    public static final String ERRORS = "errors";

    private Problems() {}

    public static ProblemDetail create(ProblemType type, QmpErrorClass errorClass, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(type.status(), detail);
        problem.setType(type.type());
        problem.setTitle(type.title());
        problem.setProperty(ERROR_CLASS, errorClass.qmpName());
        return problem;
    }

    /** Sets {@code instance} to the request path, unless the path is no valid URI reference. */
    static void setInstance(ProblemDetail problem, String path) {
        if (path.isEmpty()) {
            return;
        }
        try {
            problem.setInstance(URI.create(path));
        } catch (IllegalArgumentException ignored) {
            // better no instance than a failure while reporting a failure
        }
    }

    /** The same body as a plain map, for code that writes JSON outside Spring MVC. */
    static Map<String, Object> asMap(ProblemDetail problem) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", problem.getType().toString());
        putIfPresent(body, "title", problem.getTitle());
        body.put("status", problem.getStatus());
        putIfPresent(body, "detail", problem.getDetail());
        URI instance = problem.getInstance();
        putIfPresent(body, "instance", instance != null ? instance.toString() : null);
        Map<String, Object> properties = problem.getProperties();
        if (properties != null) {
            body.putAll(properties);
        }
        return body;
    }

    private static void putIfPresent(Map<String, Object> body, String key, @Nullable Object value) {
        if (value != null) {
            body.put(key, value);
        }
    }
}
