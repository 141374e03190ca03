package dev.blockpull.api.node;

import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import org.jspecify.annotations.Nullable;

/** Body of {@code POST /nodes/{nodeName}/snapshot} (blockdev-snapshot-sync). */
@Schema(name = "SnapshotRequest")
record SnapshotRequest(
        @Schema(
                description = "The new overlay's file name relative to the data root; must not exist",
                example = "vm1/snap1.qcow2",
                requiredMode = Schema.RequiredMode.REQUIRED)
        @NotBlank
        @Size(max = 4096)
        String snapshotFile,

        @Schema(description = "Node name of the overlay; default: a generated '#block...' name", example = "snap1")
        @Nullable
        String snapshotNodeName,

        @Schema(
                description = "Overlay format; only qcow2",
                allowableValues = {"qcow2"})
        @Pattern(regexp = "qcow2", message = "must be qcow2")
        @Nullable
        String format) {}
