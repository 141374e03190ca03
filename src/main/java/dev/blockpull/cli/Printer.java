package dev.blockpull.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;

/** Writes answers to stdout: the service's JSON as is with {@code --output json}, else text. */
final class Printer {

    enum Format {
        text,
        json
    }

    private final PrintStream out;
    private final Format format;

    Printer(PrintStream out, Format format) {
        this.out = out;
        this.format = format;
    }

    boolean json() {
        return format == Format.json;
    }

    /** One resource: pretty JSON, or the text the function makes of it. */
    void print(JsonNode node, Function<JsonNode, String> text) {
        out.println(json() ? pretty(node) : text.apply(node));
    }

    /** A list: a JSON array, or a header and a row per item. */
    void printRows(JsonNode items, String header, Function<JsonNode, String> row) {
        if (json()) {
            out.println(pretty(items));
            return;
        }
        out.println(header);
        for (JsonNode item : items) {
            out.println(row.apply(item));
        }
    }

    private static String pretty(JsonNode node) {
        return ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
    }

    /** Text of a stream plan: what would be copied, removed and written, and how long it may take. */
    static String plan(JsonNode plan) {
        List<String> removed =
                plan.path("removedNodes").valueStream().map(JsonNode::asString).toList();
        JsonNode seconds = plan.path("estimatedSeconds");
        String basis = plan.path("estimateBasis").asString();
        return String.format(
                "job %s on %s would copy %s in %d extent(s) of %s%n"
                        + "removed from the chain: %s%n"
                        + "new backing file: %s%n"
                        + "estimated time: %s",
                plan.path("jobId").asString(),
                plan.path("device").asString(),
                Sizes.human(plan.path("bytesToCopy").asLong()),
                plan.path("extentsToCopy").asLong(),
                Sizes.human(plan.path("length").asLong()),
                removed.isEmpty() ? "nothing" : String.join(", ", removed),
                plan.hasNonNull("backingFile") ? plan.path("backingFile").asString() : "none",
                seconds.isNumber()
                        ? seconds.asLong() + " s (from " + basis + ")"
                        : "unknown (no speed limit and no recent job)");
    }

    /** Text of a job: id, status, progress and, once finished, result and error. */
    static String job(JsonNode job) {
        StringBuilder text = new StringBuilder(String.format(
                "%-16s %-10s %s  device=%s",
                job.path("id").asString(),
                job.path("status").asString(),
                JobProgress.of(job).figures().trim(),
                job.path("device").asString()));
        if (job.path("speed").asLong() > 0) {
            text.append("  speed=")
                    .append(Sizes.human(job.path("speed").asLong()))
                    .append("/s");
        }
        if (job.hasNonNull("result")) {
            text.append("  result=").append(job.path("result").asString());
        }
        if (job.hasNonNull("error")) {
            text.append("  error=").append(job.path("error").asString());
        }
        return text.toString();
    }
}
