package dev.blockpull.cli;

import java.io.PrintStream;
import java.net.URI;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code blockpull}: the command-line client of a Blockpull service. The service's address and
 * token come from {@code --url}/{@code --token} or BLOCKPULL_URL/BLOCKPULL_TOKEN; exit codes say
 * what happened ({@link Outcome}).
 */
@Command(
        name = "blockpull",
        mixinStandardHelpOptions = true,
        versionProvider = BlockpullCli.Version.class,
        description = "Drives a Blockpull service: images, nodes, stream jobs and NBD exports.",
        subcommands = {
            ImagesCommand.class,
            NodesCommand.class,
            StreamCommand.class,
            JobsCommand.class,
            ExportsCommand.class,
            HealthCommand.class,
            CommandLine.HelpCommand.class
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:done; a waited-for job completed",
            "1:a waited-for job failed; health: the service is not UP",
            "2:usage error",
            "3:a waited-for job was cancelled",
            "4:cannot connect to the service",
            "5:the service refused the request (its detail is printed)",
            "6:jobs wait: the timeout passed first"
        })
public final class BlockpullCli {

    @Option(
            names = "--url",
            scope = ScopeType.INHERIT,
            paramLabel = "URL",
            defaultValue = "${env:BLOCKPULL_URL:-http://localhost:8080}",
            description = "The service, default: $BLOCKPULL_URL or ${DEFAULT-VALUE}")
    URI url = URI.create("http://localhost:8080");

    @Option(
            names = "--token",
            scope = ScopeType.INHERIT,
            paramLabel = "TOKEN",
            defaultValue = "${env:BLOCKPULL_TOKEN}",
            description = "Bearer token, default: $BLOCKPULL_TOKEN (prefer the variable: arguments show in ps)")
    @Nullable
    String token;

    @Option(
            names = {"-o", "--output"},
            scope = ScopeType.INHERIT,
            paramLabel = "FORMAT",
            defaultValue = "text",
            description = "text (for people) or json (the service's answers, for scripts)")
    Printer.Format output = Printer.Format.text;

    final PrintStream out;
    final PrintStream err;
    private final boolean terminal;

    BlockpullCli(PrintStream out, PrintStream err, boolean terminal) {
        this.out = out;
        this.err = err;
        this.terminal = terminal;
    }

    public static void main(String[] args) {
        System.exit(run(new BlockpullCli(System.out, System.err, System.console() != null), args));
    }

    static int run(BlockpullCli cli, String[] args) {
        CommandLine commandLine = new CommandLine(cli).setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setExecutionExceptionHandler((e, command, parsed) -> {
            if (e instanceof ProblemException) {
                cli.err.println("blockpull: " + e.getMessage());
                return Outcome.REFUSED.code;
            }
            if (e instanceof UnreachableException) {
                cli.err.println("blockpull: " + e.getMessage());
                return Outcome.CANNOT_CONNECT.code;
            }
            throw e;
        });
        return commandLine.execute(args);
    }

    ApiClient api() {
        // resolve() of a path against http://host:8080/prefix would drop "prefix" without the slash.
        String base = url.toString().endsWith("/") ? url.toString() : url + "/";
        return new ApiClient(URI.create(base), token);
    }

    Printer printer() {
        return new Printer(out, output);
    }

    /** Progress goes to stderr, so stdout keeps only the answer (the final job with --output json). */
    ProgressDisplay progress() {
        return ProgressDisplay.on(err, terminal);
    }

    /** The version of the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = BlockpullCli.class.getPackage().getImplementationVersion();
            return new String[] {"blockpull " + (version == null ? "(development build)" : version)};
        }
    }
}
