package dev.blockpull.api.node;

import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Body of {@code POST /nodes} (blockdev-add), and of a nested {@code backing} or {@code image}
 * definition: a format node ({@code file}, {@code backing}) or a blkdebug filter ({@code image},
 * {@code injectErrors}).
 */
@Schema(name = "OpenNodeRequest")
record OpenNodeRequest(
        @Schema(
                description =
                        "Node name: a letter first, then letters, digits, '-', '_', '.'; at most 31 "
                                + "characters. Required for the top node; nested nodes without one get a generated '#block...' name",
                example = "top")
        @Nullable
        String nodeName,

        @Schema(
                description = "Format driver, or the blkdebug fault-injection filter (only when the service "
                        + "runs with blockpull.debug.fault-injection=true)",
                allowableValues = {"qcow2", "raw", "blkdebug"},
                example = "qcow2",
                requiredMode = Schema.RequiredMode.REQUIRED)
        @NotBlank
        String driver,

        @Schema(
                description = "qcow2/raw only (required there): the image file relative to the data root, or an object "
                        + "{\"driver\":\"file\",\"filename\":\"...\",\"readOnly\":true} (readOnly: the storage is read-only "
                        + "and can never be reopened read-write)",
                implementation = Object.class,
                example = "vm1/top.qcow2",
                nullable = true)
        @Nullable
        FileRequest file,

        @Schema(
                description = "Omitted: open the backing chain named in the image headers (generated names); "
                        + "null: no backing node; a string: an opened node; an object: a nested node definition",
                implementation = Object.class,
                nullable = true)
        @Nullable
        BackingRequest backing,

        @Schema(description = "Open the node read-only; a job may reopen it read-write. Default false") @Nullable
        Boolean readOnly,

        @Schema(
                description = "blkdebug only (required there): the filtered image, the name of an opened node "
                        + "or a qcow2/raw node definition",
                implementation = Object.class,
                nullable = true)
        @Nullable
        BackingRequest image,

        @Schema(
                description = "blkdebug only: the rules in force from the start; more can be added and removed "
                        + "at /nodes/{nodeName}/inject-errors",
                nullable = true)
        @Nullable
        List<@Valid InjectErrorRequest> injectErrors) {}
