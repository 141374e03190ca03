package dev.blockpull.api;

import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;

/**
 * An error raised by the HTTP layer itself (a precondition, an idempotency clash, a bad page
 * token), with its problem type and QMP class fixed at the throw site. Block-layer errors are
 * not wrapped in this: they are thrown as they are and mapped by their kind.
 */
public class ApiException extends ErrorResponseException {

    private final ProblemType problemType;
    private final QmpErrorClass errorClass;

    public ApiException(ProblemType problemType, String detail) {
        this(problemType, QmpErrorClass.GENERIC_ERROR, detail);
    }

    public ApiException(ProblemType problemType, QmpErrorClass errorClass, String detail) {
        super(problemType.status(), Problems.create(problemType, errorClass, detail), null);
        this.problemType = problemType;
        this.errorClass = errorClass;
    }

    public ProblemType problemType() {
        return problemType;
    }

    public QmpErrorClass errorClass() {
        return errorClass;
    }

    @Override
    public String getMessage() {
        String detail = getBody().getDetail();
        return detail != null ? detail : problemType.title();
    }

    /** The problem body as sent, for tests and logs. */
    public ProblemDetail problem() {
        return getBody();
    }
}
