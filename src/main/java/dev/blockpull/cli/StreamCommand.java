package dev.blockpull.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/**
 * {@code blockpull stream DEVICE}: block-stream, like {@code virsh blockpull}. With {@code --wait}
 * it follows the job to its end and exits with its outcome; with {@code --plan} it only prints
 * what the stream would do ({@code POST /jobs/stream/plan}).
 */
@Command(
        name = "stream",
        description = "Start a stream job: copy the backing chain's data into DEVICE, then drop "
                + "those layers (block-stream).")
final class StreamCommand implements Callable<Integer> {

    @ParentCommand
    BlockpullCli cli;

    @Parameters(paramLabel = "DEVICE", description = "The node to stream into")
    String device = "";

    @Option(names = "--job-id", description = "Job id, default: DEVICE")
    @Nullable
    String jobId;

    @ArgGroup(exclusive = true)
    @Nullable
    Base base;

    @Option(names = "--backing-file", description = "Backing file string written into DEVICE's header")
    @Nullable
    String backingFile;

    @Option(
            names = "--speed",
            converter = SizeConverter.class,
            paramLabel = "BYTES/S",
            description = "Rate limit in bytes per second: 1048576, 512K, 50M; 0 = none")
    @Nullable
    Long speed;

    @Option(names = "--on-error", paramLabel = "POLICY", description = "report, ignore, stop or enospc")
    @Nullable
    String onError;

    @Option(names = "--filter-node-name", description = "Name of the copy-on-read filter node")
    @Nullable
    String filterNodeName;

    @Option(names = "--no-auto-finalize", description = "Wait in 'pending' for 'jobs finalize'")
    boolean noAutoFinalize;

    @Option(names = "--no-auto-dismiss", description = "Stay 'concluded' until 'jobs dismiss'")
    boolean noAutoDismiss;

    @ArgGroup(exclusive = true)
    @Nullable
    Mode mode;

    /** Follow the job, or only ask what it would do: not both. */
    static final class Mode {
        @Option(names = "--wait", description = "Follow the job to its end with a progress bar; exit with its outcome")
        boolean await;

        @Option(
                names = "--plan",
                description = "Dry run: print what the stream would do (nodes removed, bytes to "
                        + "copy, new backing file, estimated time) and start nothing")
        boolean plan;
    }

    /** Where the stream stops: at most one of them. */
    static final class Base {
        @Option(names = "--base-node", description = "Keep this node and what is below it")
        @Nullable
        String baseNode;

        @Option(names = "--base", description = "Keep this image (by file name) and what is below it")
        @Nullable
        String base;

        @Option(names = "--bottom", description = "The lowest node to copy from")
        @Nullable
        String bottom;
    }

    @Override
    public Integer call() {
        String id = jobId != null ? jobId : device;
        Map<String, Object> body = body(id);
        ApiClient api = cli.api();
        if (mode != null && mode.plan) {
            cli.printer().print(api.post("/jobs/stream/plan", body), Printer::plan);
            return Outcome.OK.code;
        }
        if (mode == null || !mode.await) {
            cli.printer().print(api.post("/jobs/stream", body), Printer::job);
            return Outcome.OK.code;
        }
        JsonNode job = new JobFollower(api, cli.progress()).start(id, () -> api.post("/jobs/stream", body));
        return JobsCommand.report(cli, job);
    }

    private Map<String, Object> body(String id) {
        Base where = base != null ? base : new Base();
        return RequestBody.of(
                "jobId",
                id,
                "device",
                device,
                "baseNode",
                where.baseNode,
                "base",
                where.base,
                "bottom",
                where.bottom,
                "backingFile",
                backingFile,
                "speed",
                speed,
                "onError",
                onError,
                "filterNodeName",
                filterNodeName,
                "autoFinalize",
                noAutoFinalize ? Boolean.FALSE : null,
                "autoDismiss",
                noAutoDismiss ? Boolean.FALSE : null);
    }
}
