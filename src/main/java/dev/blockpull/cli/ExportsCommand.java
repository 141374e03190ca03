package dev.blockpull.cli;

import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/** {@code blockpull exports}: /exports, nodes served over NBD. */
@Command(name = "exports", description = "NBD exports of nodes.")
final class ExportsCommand {

    @ParentCommand
    BlockpullCli cli;

    @Command(name = "list", description = "Exports with their client counts.")
    int list() {
        cli.printer()
                .printRows(
                        cli.api().getAll("/exports"),
                        String.format("%-16s %-16s %-9s %12s %7s", "EXPORT", "NODE", "WRITABLE", "SIZE", "CLIENTS"),
                        ExportsCommand::row);
        return Outcome.OK.code;
    }

    @Command(name = "create", description = "Serve a node over NBD as nbd://HOST:PORT/ID.")
    int create(
            @Parameters(index = "0", paramLabel = "ID") String id,
            @Parameters(index = "1", paramLabel = "NODE") String node,
            @Option(names = "--writable", description = "Clients may write") boolean writable,
            @Option(
                            names = "--allow-subject",
                            paramLabel = "DN",
                            description =
                                    "Only NBD clients whose TLS "
                                            + "certificate has this subject (RFC 4514, e.g. CN=hypervisor-1,O=Example); repeatable")
                    @Nullable
                    List<String> subjects) {
        cli.printer()
                .print(
                        cli.api()
                                .post(
                                        "/exports",
                                        RequestBody.of(
                                                "id",
                                                id,
                                                "nodeName",
                                                node,
                                                "writable",
                                                writable,
                                                "allowedClientSubjects",
                                                subjects == null || subjects.isEmpty() ? null : subjects)),
                        ExportsCommand::row);
        return Outcome.OK.code;
    }

    @Command(name = "delete", description = "Stop serving (open clients are drained first).")
    int delete(@Parameters(paramLabel = "ID") String id) {
        cli.printer().print(cli.api().delete("/exports/" + ApiClient.encode(id)), answer -> "deleted export " + id);
        return Outcome.OK.code;
    }

    private static String row(JsonNode export) {
        return String.format(
                "%-16s %-16s %-9s %12s %7d",
                export.path("id").asString(),
                export.path("nodeName").asString(),
                export.path("writable").asBoolean(),
                Sizes.human(export.path("size").asLong()),
                export.path("clients").asInt());
    }
}
