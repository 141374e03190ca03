package dev.blockpull.cli;

/** The exit codes of {@code blockpull}: what happened, for scripts. */
enum Outcome {
    /** The command did what was asked; a waited-for job completed. */
    OK(0),
    /** A waited-for job failed. */
    JOB_FAILED(1),
    /** {@code health}: the service answered, but not UP (what container health checks call unhealthy). */
    NOT_UP(1),
    /** Bad arguments (picocli's own code for usage errors). */
    USAGE(2),
    /** A waited-for job was cancelled. */
    JOB_CANCELLED(3),
    /** No answer from the service: wrong URL, service down, network. */
    CANNOT_CONNECT(4),
    /** The service refused the request with a problem (4xx/5xx); its detail is on stderr. */
    REFUSED(5),
    /** {@code jobs wait --timeout} passed before the job reached the status. */
    TIMED_OUT(6);

    final int code;

    Outcome(int code) {
        this.code = code;
    }

    /** The outcome of a finished job from its {@code result}. */
    static Outcome ofResult(String result) {
        switch (result) {
            case "completed":
                return OK;
            case "cancelled":
                return JOB_CANCELLED;
            default:
                return JOB_FAILED;
        }
    }
}
