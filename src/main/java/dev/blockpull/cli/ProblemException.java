package dev.blockpull.cli;

import tools.jackson.databind.JsonNode;

/** The service answered with an error: an RFC 9457 problem, or at least a status. */
final class ProblemException extends RuntimeException {

    final int status;

    ProblemException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** "404 Device not found: Cannot find device='x' nor node-name='x'", from the problem's members. */
    static ProblemException of(int status, JsonNode problem) {
        String title = problem.path("title").asString("");
        String detail = problem.path("detail").asString("");
        StringBuilder message = new StringBuilder().append(status);
        if (!title.isEmpty()) {
            message.append(' ').append(title);
        }
        if (!detail.isEmpty()) {
            message.append(": ").append(detail);
        }
        return new ProblemException(status, message.toString());
    }
}
