package dev.blockpull.api.image;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/**
 * One entry of {@code GET /images}. A file that does not open as an image is still listed, with
 * {@code error} saying why and the sizes left out.
 */
@Schema(name = "Image")
record ImageView(
        @Schema(description = "File name relative to the data root, with '/' separators", example = "vm1/top.qcow2")
        String filename,

        @Schema(description = "qcow2 or raw (probed from the content)", example = "qcow2")
        String format,

        @Schema(description = "Guest size in bytes") @Nullable
        Long virtualSize,

        @Schema(description = "Bytes the file occupies on disk") @Nullable
        Long actualSize,

        @Schema(description = "Backing file name exactly as recorded in the header") @Nullable
        String backingFile,

        @Schema(description = "Why the file could not be opened as an image; absent when it could")
        @JsonInclude(JsonInclude.Include.NON_NULL)
        @Nullable
        String error) {}
