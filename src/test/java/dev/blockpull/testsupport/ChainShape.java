package dev.blockpull.testsupport;

/**
 * The knobs of {@link Chains#baseMidTop}: base format, qcow2 compat, a cluster size per layer,
 * the guest size of base and top, and the size of the middle layer (shorter than the others
 * makes "past the end of a backing layer reads as zeros" matter).
 *
 * @param baseFormat  {@code qcow2} or {@code raw} (a raw base ignores its cluster size and compat)
 * @param compat      {@code 1.1} (v3) or {@code 0.10} (v2) for every qcow2 layer
 * @param size        guest size of base and top, at least 4 MiB
 * @param midSize     guest size of the middle layer, 1 MiB up to {@code size}
 */
public record ChainShape(
        String baseFormat,
        String compat,
        int baseClusterSize,
        int midClusterSize,
        int topClusterSize,
        long size,
        long midSize) {

    public static final long MIB = 1024 * 1024;

    public ChainShape {
        if (!baseFormat.equals("qcow2") && !baseFormat.equals("raw")) {
            throw new IllegalArgumentException("base format must be qcow2 or raw: " + baseFormat);
        }
        if (size < 4 * MIB || size % MIB != 0) {
            throw new IllegalArgumentException("size must be a whole number of MiB, at least 4 MiB: " + size);
        }
        if (midSize < MIB || midSize > size) {
            throw new IllegalArgumentException("mid size must be between 1 MiB and the size: " + midSize);
        }
    }

    /** QEMU 7.x defaults: qcow2 v3 everywhere, 64 KiB clusters, 4 MiB, all layers the same size. */
    public static ChainShape standard() {
        return new ChainShape("qcow2", "1.1", 65536, 65536, 65536, 4 * MIB, 4 * MIB);
    }

    public ChainShape withRawBase() {
        return new ChainShape("raw", compat, baseClusterSize, midClusterSize, topClusterSize, size, midSize);
    }

    /** {@code "0.10"} for qcow2 v2 layers. */
    public ChainShape withCompat(String newCompat) {
        return new ChainShape(baseFormat, newCompat, baseClusterSize, midClusterSize, topClusterSize, size, midSize);
    }

    public ChainShape withClusterSizes(int base, int mid, int top) {
        return new ChainShape(baseFormat, compat, base, mid, top, size, midSize);
    }

    /** A middle layer of {@code bytes} (e.g. 1 MiB under a 4 MiB top). */
    public ChainShape withShortMid(long bytes) {
        return new ChainShape(baseFormat, compat, baseClusterSize, midClusterSize, topClusterSize, size, bytes);
    }

    /** Base and top size; a middle layer as large as the old size grows with it. */
    public ChainShape withSize(long bytes) {
        return new ChainShape(
                baseFormat,
                compat,
                baseClusterSize,
                midClusterSize,
                topClusterSize,
                bytes,
                midSize == size ? bytes : midSize);
    }
}
