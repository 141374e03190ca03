package dev.blockpull.cli;

import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.JsonNode;

/** {@code blockpull images}: /images (qemu-img create, list, info). */
@Command(name = "images", description = "Image files under the service's data root.")
final class ImagesCommand {

    @ParentCommand
    BlockpullCli cli;

    @Command(name = "create", description = "Create a qcow2 or raw image (qemu-img create).")
    int create(
            @Parameters(paramLabel = "FILE", description = "File name relative to the data root") String file,
            @Option(
                            names = {"-f", "--format"},
                            defaultValue = "qcow2",
                            description = "qcow2 or raw")
                    String format,
            @Option(
                            names = {"-s", "--size"},
                            converter = SizeConverter.class,
                            description = "Guest size: 1073741824, 512M, 10G; default: the backing file's")
                    @Nullable
                    Long size,
            @Option(
                            names = {"-b", "--backing-file"},
                            description = "Backing file, relative to FILE's directory")
                    @Nullable
                    String backingFile,
            @Option(
                            names = {"-F", "--backing-format"},
                            description = "Format of the backing file")
                    @Nullable
                    String backingFormat) {
        Map<String, Object> body = RequestBody.of(
                "filename",
                file,
                "format",
                format,
                "size",
                size,
                "backingFile",
                backingFile,
                "backingFormat",
                backingFormat);
        cli.printer().print(cli.api().post("/images", body), ImagesCommand::row);
        return Outcome.OK.code;
    }

    @Command(name = "list", description = "Every image file, sorted by name.")
    int list() {
        cli.printer()
                .printRows(
                        cli.api().getAll("/images"),
                        String.format("%-40s %-6s %12s  %s", "FILE", "FORMAT", "SIZE", "BACKING FILE"),
                        ImagesCommand::row);
        return Outcome.OK.code;
    }

    @Command(name = "info", description = "An image with its backing chain (qemu-img info --backing-chain).")
    int info(@Parameters(paramLabel = "FILE") String file) {
        JsonNode info = cli.api().get("/images/info?filename=" + ApiClient.encode(file));
        cli.printer().print(info, i -> {
            StringBuilder text = new StringBuilder();
            for (JsonNode layer : i.path("backingChain")) {
                text.append(row(layer)).append('\n');
            }
            return text.toString().stripTrailing();
        });
        return Outcome.OK.code;
    }

    private static String row(JsonNode image) {
        if (image.hasNonNull("error")) {
            return String.format(
                    "%-40s error: %s",
                    image.path("filename").asString(), image.path("error").asString());
        }
        return String.format(
                "%-40s %-6s %12s  %s",
                image.path("filename").asString(),
                image.path("format").asString(),
                Sizes.human(image.path("virtualSize").asLong()),
                image.path("backingFile").asString("-"));
    }
}
