package dev.blockpull.format;

import org.jspecify.annotations.Nullable;

/**
 * What {@code qemu-img info} shows of one image beyond its size and backing file.
 *
 * @param compat       {@code "0.10"} (qcow2 v2) or {@code "1.1"} (v3); null for raw
 * @param refcountBits refcount width; 0 for raw
 * @param lazyRefcounts the lazy refcounts compatible bit
 * @param dirty        the dirty bit was set when the image was opened
 * @param corrupt      the corrupt bit is set (the image is read-only for us)
 * @param compressionType {@code "zlib"} or {@code "zstd"}; null for raw
 * @param extendedL2   extended L2 entries (subclusters)
 * @param actualSize   bytes the file occupies on disk
 */
public record ImageDetails(
        @Nullable String compat,
        int refcountBits,
        boolean lazyRefcounts,
        boolean dirty,
        boolean corrupt,
        @Nullable String compressionType,
        boolean extendedL2,
        long actualSize) {}
