package dev.blockpull.cli;

import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/** {@code blockpull nodes}: /nodes, the block graph (blockdev-add, query-named-block-nodes, ...). */
@Command(name = "nodes", description = "Nodes of the block graph: open images as chains, look at them, close them.")
final class NodesCommand {

    private static final String HEADER =
            String.format("%-16s %-7s %12s  %-16s %s", "NODE", "DRIVER", "SIZE", "BACKING", "FILE");

    @ParentCommand
    BlockpullCli cli;

    @Command(name = "open", description = "Open an image and its backing chain as nodes (blockdev-add).")
    int open(
            @Parameters(index = "0", paramLabel = "NODE", description = "Name of the top node") String node,
            @Parameters(index = "1", paramLabel = "FILE", description = "Image file relative to the data root")
                    String file,
            @Option(names = "--driver", defaultValue = "qcow2", description = "qcow2 or raw") String driver,
            @Option(names = "--read-only", description = "Open read-only (a job may reopen it read-write)")
                    boolean readOnly) {
        Map<String, Object> body = RequestBody.of(
                "nodeName", node, "driver", driver, "file", file, "readOnly", readOnly ? Boolean.TRUE : null);
        cli.printer().print(cli.api().post("/nodes", body), NodesCommand::row);
        return Outcome.OK.code;
    }

    @Command(name = "list", description = "Every node.")
    int list() {
        cli.printer().printRows(cli.api().getAll("/nodes"), HEADER, NodesCommand::row);
        return Outcome.OK.code;
    }

    @Command(name = "chain", description = "The node and every node below it, top first.")
    int chain(@Parameters(paramLabel = "NODE") String node) {
        cli.printer().printRows(cli.api().get(path(node) + "/chain"), HEADER, NodesCommand::row);
        return Outcome.OK.code;
    }

    @Command(name = "map", description = "Allocation of the chain, like qemu-img map --output=json.")
    int map(@Parameters(paramLabel = "NODE") String node) {
        cli.printer()
                .printRows(
                        cli.api().get(path(node) + "/map"),
                        String.format("%14s %14s %6s %5s %5s", "START", "LENGTH", "DEPTH", "DATA", "ZERO"),
                        e -> String.format(
                                "%14d %14d %6d %5s %5s",
                                e.path("start").asLong(),
                                e.path("length").asLong(),
                                e.path("depth").asInt(),
                                e.path("data").asBoolean(),
                                e.path("zero").asBoolean()));
        return Outcome.OK.code;
    }

    @Command(name = "snapshot", description = "A new qcow2 overlay as the node's active top (blockdev-snapshot-sync).")
    int snapshot(
            @Parameters(index = "0", paramLabel = "NODE") String node,
            @Parameters(index = "1", paramLabel = "FILE", description = "The new overlay, must not exist") String file,
            @Option(names = "--snapshot-node-name", description = "Node name of the overlay") @Nullable
                    String snapshotNodeName) {
        Map<String, Object> body = RequestBody.of("snapshotFile", file, "snapshotNodeName", snapshotNodeName);
        cli.printer().print(cli.api().post(path(node) + "/snapshot", body), NodesCommand::row);
        return Outcome.OK.code;
    }

    @Command(name = "close", description = "Close a node (blockdev-del).")
    int close(@Parameters(paramLabel = "NODE") String node) {
        cli.printer().print(cli.api().delete(path(node)), answer -> "closed " + node);
        return Outcome.OK.code;
    }

    static String path(String node) {
        return "/nodes/" + ApiClient.encode(node);
    }

    private static String row(JsonNode node) {
        return String.format(
                "%-16s %-7s %12s  %-16s %s",
                node.path("nodeName").asString(),
                node.path("driver").asString(),
                Sizes.human(node.path("virtualSize").asLong()),
                node.path("backing").asString("-"),
                node.path("filename").asString("-"));
    }
}
