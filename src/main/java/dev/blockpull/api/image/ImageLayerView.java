package dev.blockpull.api.image;

import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/** One layer of a backing chain, as {@code qemu-img info --backing-chain} shows it. */
@Schema(name = "ImageLayer")
record ImageLayerView(
        @Schema(description = "File name relative to the data root", example = "vm1/base.qcow2")
        String filename,

        @Schema(description = "qcow2 or raw", example = "qcow2")
        String format,

        @Schema(description = "Guest size in bytes") long virtualSize,

        @Schema(description = "Bytes the file occupies on disk")
        long actualSize,

        @Schema(description = "Cluster size in bytes (512 for raw)")
        int clusterSize,

        @Schema(description = "Backing file name exactly as recorded in the header") @Nullable
        String backingFile,

        @Schema(description = "Backing format recorded in the header, if any") @Nullable
        String backingFormat,

        @Schema(description = "The dirty bit was set when the image was opened (qcow2)")
        boolean dirty,

        @Schema(description = "The corrupt bit is set (qcow2)")
        boolean corrupt,

        @Schema(description = "qcow2 compatibility level: 0.10 or 1.1; null for raw") @Nullable
        String compat,

        @Schema(description = "qcow2 refcount width; null for raw") @Nullable
        Integer refcountBits,

        @Schema(description = "qcow2 lazy refcounts bit") boolean lazyRefcounts,

        @Schema(description = "qcow2 compression type: zlib or zstd; null for raw") @Nullable
        String compressionType,

        @Schema(description = "qcow2 extended L2 entries (subclusters)")
        boolean extendedL2) {}
