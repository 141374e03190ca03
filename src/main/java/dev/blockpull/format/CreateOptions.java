package dev.blockpull.format;

import org.jspecify.annotations.Nullable;

/**
 * The {@code qemu-img create} subset the engine implements.
 *
 * @param format        qcow2 or raw
 * @param size          guest size in bytes (already resolved from the backing image if omitted)
 * @param backing       backing file name and format to record in a qcow2 header, or null
 * @param clusterSize   qcow2 cluster size, a power of two from 512 to 2 MiB
 * @param compatV3      qcow2 version 3 ({@code compat=1.1}) rather than 2 ({@code compat=0.10})
 * @param refcountBits  qcow2 refcount width: 1, 2, 4, 8, 16, 32 or 64
 * @param lazyRefcounts the lazy refcounts compatible bit (v3 only)
 */
public record CreateOptions(
        ImageFormat format,
        long size,
        @Nullable BackingReference backing,
        int clusterSize,
        boolean compatV3,
        int refcountBits,
        boolean lazyRefcounts) {

    public static final int DEFAULT_CLUSTER_SIZE = 64 * 1024;

    /** QEMU 7.x defaults: v3, 64 KiB clusters, 16-bit refcounts. */
    public static CreateOptions qcow2(long size, @Nullable BackingReference backing) {
        return new CreateOptions(ImageFormat.QCOW2, size, backing, DEFAULT_CLUSTER_SIZE, true, 16, false);
    }

    public static CreateOptions raw(long size) {
        return new CreateOptions(ImageFormat.RAW, size, null, 512, false, 0, false);
    }

    public CreateOptions withClusterSize(int bytes) {
        return new CreateOptions(format, size, backing, bytes, compatV3, refcountBits, lazyRefcounts);
    }

    public CreateOptions withCompatV3(boolean v3) {
        return new CreateOptions(format, size, backing, clusterSize, v3, refcountBits, lazyRefcounts);
    }

    public CreateOptions withRefcountBits(int bits) {
        return new CreateOptions(format, size, backing, clusterSize, compatV3, bits, lazyRefcounts);
    }

    public CreateOptions withLazyRefcounts(boolean lazy) {
        return new CreateOptions(format, size, backing, clusterSize, compatV3, refcountBits, lazy);
    }
}
