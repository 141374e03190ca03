package dev.blockpull.cli;

import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/**
 * {@code blockpull health [liveness|readiness]}: the service's health, or one probe group, as an
 * exit code a container's health check can use (the image's HEALTHCHECK runs it). The health
 * paths need no token.
 */
@Command(
        name = "health",
        description = "Whether the service is UP: /actuator/health, or one probe group "
                + "(exit 0 when UP, 1 when it answers anything else, 4 when it does not answer).")
final class HealthCommand implements Callable<Integer> {

    enum Group {
        liveness,
        readiness
    }

    @ParentCommand
    BlockpullCli cli;

    @Parameters(arity = "0..1", paramLabel = "GROUP", description = "liveness or readiness; default: all of it")
    @Nullable
    Group group;

    @Override
    public Integer call() {
        String path = "/actuator/health" + (group == null ? "" : "/" + group);
        JsonNode health;
        try {
            health = cli.api().get(path);
        } catch (ProblemException e) {
            // DOWN and OUT_OF_SERVICE come as 503 (a health document, not a problem).
            cli.err.println("blockpull: " + path + " answered " + e.getMessage() + ": not UP");
            return Outcome.NOT_UP.code;
        }
        String status = health.path("status").asString("UNKNOWN");
        cli.printer().print(health, h -> status);
        return "UP".equals(status) ? Outcome.OK.code : Outcome.NOT_UP.code;
    }
}
