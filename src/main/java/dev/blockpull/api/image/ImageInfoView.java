package dev.blockpull.api.image;

import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Body of {@code GET /images/info} and of {@code POST /images}: the image's own summary (the same
 * members as a {@code GET /images} entry) and its whole backing chain, top first.
 */
@Schema(name = "ImageInfo")
record ImageInfoView(
        @Schema(description = "File name relative to the data root", example = "vm1/top.qcow2")
        String filename,

        @Schema(description = "qcow2 or raw", example = "qcow2")
        String format,

        @Schema(description = "Guest size in bytes") long virtualSize,

        @Schema(description = "Bytes the file occupies on disk")
        long actualSize,

        @Schema(description = "Backing file name exactly as recorded in the header") @Nullable
        String backingFile,

        @Schema(description = "Number of layers in the chain, this image included")
        int chainLength,

        @Schema(description = "Every layer of the backing chain, this image first")
        List<ImageLayerView> backingChain) {}
