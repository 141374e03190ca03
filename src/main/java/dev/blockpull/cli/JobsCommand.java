package dev.blockpull.cli;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/** {@code blockpull jobs}: /jobs and the verbs of /jobs/stream/{id}. */
@Command(
        name = "jobs",
        description = "Jobs: list and show them, pause, resume, cancel, set their speed, "
                + "finalize, dismiss, wait for them.")
final class JobsCommand {

    /** The longest single wait the service grants (GET ...?waitFor=&timeout=). */
    private static final Duration LONGEST_WAIT = Duration.ofMinutes(5);

    private static final Set<String> FINISHED = Set.of("concluded", "null");

    @ParentCommand
    BlockpullCli cli;

    @Command(name = "list", description = "Every job, running and recently finished.")
    int list(
            @Option(names = "--status", description = "Only jobs in these statuses, e.g. running,paused") @Nullable
                    String status) {
        String query = status == null ? "" : "?status=" + ApiClient.encode(status);
        cli.printer()
                .printRows(
                        cli.api().getAll("/jobs" + query),
                        String.format("%-16s %-10s %s", "JOB", "STATUS", "PROGRESS"),
                        Printer::job);
        return Outcome.OK.code;
    }

    @Command(name = "show", description = "One job.")
    int show(@Parameters(paramLabel = "JOB") String id) {
        cli.printer().print(cli.api().get(JobFollower.jobPath(id)), Printer::job);
        return Outcome.OK.code;
    }

    @Command(name = "pause", description = "Pause at the next pause point (job-pause).")
    int pause(@Parameters(paramLabel = "JOB") String id) {
        return verb(id, "pause");
    }

    @Command(name = "resume", description = "Resume a paused job (job-resume).")
    int resume(@Parameters(paramLabel = "JOB") String id) {
        return verb(id, "resume");
    }

    @Command(name = "cancel", description = "Cancel; the chain stays as it was (block-job-cancel).")
    int cancel(
            @Parameters(paramLabel = "JOB") String id,
            @Option(names = "--force", description = "Cancel even a paused job") boolean force) {
        return verb(id, force ? "cancel?force=true" : "cancel");
    }

    @Command(name = "finalize", description = "Finalize a job waiting in 'pending' (job-finalize).")
    int finalizeJob(@Parameters(paramLabel = "JOB") String id) {
        return verb(id, "finalize");
    }

    @Command(name = "dismiss", description = "Dismiss a concluded job (job-dismiss).")
    int dismiss(@Parameters(paramLabel = "JOB") String id) {
        return verb(id, "dismiss");
    }

    @Command(name = "set-speed", description = "Change the rate limit (block-job-set-speed).")
    int setSpeed(
            @Parameters(index = "0", paramLabel = "JOB") String id,
            @Parameters(
                            index = "1",
                            paramLabel = "BYTES/S",
                            converter = SizeConverter.class,
                            description = "1048576, 512K, 50M; 0 = none")
                    long speed) {
        cli.printer().print(cli.api().patch(JobFollower.jobPath(id), Map.of("speed", speed)), Printer::job);
        return Outcome.OK.code;
    }

    @Command(
            name = "wait",
            description = "Wait until the job reaches a status or has finished; exit with its "
                    + "outcome (0 completed, 1 failed, 3 cancelled, 6 timed out).")
    int await(
            @Parameters(paramLabel = "JOB") String id,
            @Option(
                            names = "--for",
                            defaultValue = "concluded",
                            paramLabel = "STATUS",
                            description = "The status to wait for, default: ${DEFAULT-VALUE}")
                    String status,
            @Option(
                            names = "--timeout",
                            paramLabel = "SECONDS",
                            description = "Give up after this many seconds (exit 6); default: wait as long as it takes")
                    @Nullable
                    Long timeoutSeconds,
            @Option(
                            names = "--progress",
                            description = "Follow the job to its end with a progress bar instead "
                                    + "(--for and --timeout do not apply)")
                    boolean progress) {
        ApiClient api = cli.api();
        if (progress) {
            return report(cli, new JobFollower(api, cli.progress()).follow(id));
        }
        long deadline = timeoutSeconds == null ? Long.MAX_VALUE : System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        while (true) {
            long left = Math.max(0, deadline - System.nanoTime());
            long slice = Math.min(left / 1_000_000, LONGEST_WAIT.toMillis());
            JsonNode job = api.get(
                    JobFollower.jobPath(id) + "?waitFor=" + ApiClient.encode(status) + "&timeout=" + slice + "ms");
            String now = job.path("status").asString();
            if (FINISHED.contains(now)) {
                return report(cli, job);
            }
            if (now.equals(status)) {
                cli.printer().print(job, Printer::job);
                return Outcome.OK.code;
            }
            if (System.nanoTime() >= deadline) {
                cli.printer().print(job, Printer::job);
                cli.err.println(
                        "blockpull: job " + id + " is " + now + ", not " + status + ", after " + timeoutSeconds + " s");
                return Outcome.TIMED_OUT.code;
            }
        }
    }

    private int verb(String id, String verb) {
        cli.printer().print(cli.api().post(JobFollower.jobPath(id) + "/" + verb, null), Printer::job);
        return Outcome.OK.code;
    }

    /** Prints the job at its end; a failure's error goes to stderr too. The exit code is its outcome. */
    static int report(BlockpullCli cli, JsonNode job) {
        cli.printer().print(job, Printer::job);
        String result = job.path("result").asString("");
        if (result.isEmpty()) {
            // Stopped following before a result: waiting in pending for a finalize.
            return Outcome.OK.code;
        }
        Outcome outcome = Outcome.ofResult(result);
        if (outcome == Outcome.JOB_FAILED) {
            cli.err.println("blockpull: job " + job.path("id").asString() + " failed: "
                    + job.path("error").asString());
        } else if (outcome == Outcome.JOB_CANCELLED) {
            cli.err.println("blockpull: job " + job.path("id").asString() + " was cancelled");
        }
        return outcome.code;
    }
}
