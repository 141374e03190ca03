package dev.blockpull.api.node;

import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.jspecify.annotations.Nullable;

/** Body of {@code POST /nodes} (blockdev-add), and of a nested {@code backing} definition. */
@Schema(name = "OpenNodeRequest")
record OpenNodeRequest(
        @Schema(description = "Node name: a letter first, then letters, digits, '-', '_', '.'; at most 31 "
                + "characters. Required for the top node; nested nodes without one get a generated '#block...' name",
                example = "top")
        @Nullable String nodeName,

        @Schema(description = "Format driver", allowableValues = {"qcow2", "raw"}, example = "qcow2",
                requiredMode = Schema.RequiredMode.REQUIRED)
        @NotBlank String driver,

        @Schema(description = "The image file relative to the data root, or an object "
                + "{\"driver\":\"file\",\"filename\":\"...\",\"readOnly\":true} (readOnly: the storage is read-only "
                + "and can never be reopened read-write)", implementation = Object.class, example = "vm1/top.qcow2",
                requiredMode = Schema.RequiredMode.REQUIRED)
        @NotNull FileRequest file,

        @Schema(description = "Omitted: open the backing chain named in the image headers (generated names); "
                + "null: no backing node; a string: an opened node; an object: a nested node definition",
                implementation = Object.class, nullable = true)
        @Nullable BackingRequest backing,

        @Schema(description = "Open the node read-only; a job may reopen it read-write. Default false")
        @Nullable Boolean readOnly) {
}
