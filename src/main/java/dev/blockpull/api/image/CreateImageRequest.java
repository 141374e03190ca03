package dev.blockpull.api.image;

import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.PositiveOrZero;
import jakarta.validation.constraints.Size;
import org.jspecify.annotations.Nullable;

/**
 * Body of {@code POST /images}: the {@code qemu-img create} options the engine implements.
 * Cross-field rules are checked by {@link ImageCatalog} (size or backingFile) and
 * {@link CreateImageOptions} (options that need qcow2 or compat 1.1).
 */
@Schema(name = "CreateImageRequest")
record CreateImageRequest(
        @Schema(
                description = "File name relative to the data root; parent directories are created",
                example = "vm1/top.qcow2",
                requiredMode = Schema.RequiredMode.REQUIRED)
        @NotBlank
        @Size(max = 4096)
        String filename,

        @Schema(
                description = "Image format",
                allowableValues = {"qcow2", "raw"},
                example = "qcow2",
                requiredMode = Schema.RequiredMode.REQUIRED)
        @NotBlank
        String format,

        @Schema(
                description = "Virtual size in bytes (rounded up to a multiple of 512, as qemu-img does); "
                        + "may be omitted when backingFile is given, then the backing image's size is taken",
                example = "1073741824")
        @PositiveOrZero
        @Nullable
        Long size,

        @Schema(
                description = "Backing file name written verbatim into the qcow2 header; relative to the "
                        + "directory of the new image, and must stay inside the data root",
                example = "base.qcow2")
        @Size(max = 1023)
        @Nullable
        String backingFile,

        @Schema(
                description = "Format of the backing file; probed from its content when omitted "
                        + "(and then recorded in the header)",
                allowableValues = {"qcow2", "raw"})
        @Nullable
        String backingFormat,

        @Schema(description = "qcow2 cluster size: a power of two from 512 to 2 MiB; default 65536", example = "65536")
        @Min(512)
        @Max(2 * 1024 * 1024)
        @Nullable
        Integer clusterSize,

        @Schema(
                description = "qcow2 compatibility level: 0.10 (version 2) or 1.1 (version 3, the default)",
                allowableValues = {"0.10", "1.1"})
        @Pattern(regexp = "0\\.10|1\\.1|v2|v3", message = "must be 0.10 or 1.1")
        @Nullable
        String compat,

        @Schema(description = "qcow2 refcount width in bits: 1, 2, 4, 8, 16 (default), 32 or 64")
        @Min(1)
        @Max(64)
        @Nullable
        Integer refcountBits,

        @Schema(description = "qcow2 lazy refcounts (compat 1.1 only); default false") @Nullable
        Boolean lazyRefcounts) {}
