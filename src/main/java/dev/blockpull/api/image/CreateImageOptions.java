package dev.blockpull.api.image;

import dev.blockpull.format.BackingReference;
import dev.blockpull.format.CreateOptions;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The options of {@code POST /images} as {@code qemu-img create} takes them: which go with which
 * format and compatibility level (refused with qemu-img's messages), and the engine's
 * {@link CreateOptions} they make.
 */
final class CreateImageOptions {

    private static final int SECTOR = 512;
    private static final int MIN_CLUSTER = 512;
    private static final int MAX_CLUSTER = 2 * 1024 * 1024;

    private CreateImageOptions() {}

    /** The request's options fit its format and compatibility level; else 400 with qemu-img's message. */
    static void check(ImageFormat format, CreateImageRequest r) {
        if (r.backingFormat() != null && r.backingFile() == null) {
            throw invalid("backingFormat needs backingFile");
        }
        if (r.size() != null && r.size() > Long.MAX_VALUE - SECTOR) {
            throw invalid("size " + r.size() + " is too large");
        }
        if (format == ImageFormat.RAW) {
            if (r.backingFile() != null) {
                throw invalid("raw images cannot have a backing file; use format qcow2");
            }
            qcow2Only("clusterSize", r.clusterSize());
            qcow2Only("compat", r.compat());
            qcow2Only("refcountBits", r.refcountBits());
            qcow2Only("lazyRefcounts", r.lazyRefcounts());
            return;
        }
        Integer cluster = r.clusterSize();
        if (cluster != null && (Integer.bitCount(cluster) != 1 || cluster < MIN_CLUSTER || cluster > MAX_CLUSTER)) {
            throw invalid("clusterSize must be a power of two between 512 and 2097152 (2 MiB), got " + cluster);
        }
        Integer refcountBits = r.refcountBits();
        if (refcountBits != null && (Integer.bitCount(refcountBits) != 1 || refcountBits > 64)) {
            throw invalid("refcountBits must be a power of two and may not exceed 64, got " + refcountBits);
        }
        if (!isV3(r.compat())) {
            if (refcountBits != null && refcountBits != 16) {
                throw invalid("Different refcount widths than 16 bits require compatibility level 1.1 or above "
                        + "(use compat=1.1 or greater)");
            }
            if (Boolean.TRUE.equals(r.lazyRefcounts())) {
                throw invalid("Lazy refcounts only supported with compatibility level 1.1 and above "
                        + "(use compat=1.1 or greater)");
            }
        }
    }

    /** The options of a checked request, with its size rounded up to whole sectors. */
    static CreateOptions of(ImageFormat format, long size, @Nullable BackingReference backing, CreateImageRequest r) {
        long sectors = roundUpToSector(size);
        if (format == ImageFormat.RAW) {
            return CreateOptions.raw(sectors);
        }
        CreateOptions options = CreateOptions.qcow2(sectors, backing).withCompatV3(isV3(r.compat()));
        if (r.clusterSize() != null) {
            options = options.withClusterSize(r.clusterSize());
        }
        if (r.refcountBits() != null) {
            options = options.withRefcountBits(r.refcountBits());
        }
        if (r.lazyRefcounts() != null) {
            options = options.withLazyRefcounts(r.lazyRefcounts());
        }
        return options;
    }

    /** compat defaults to 1.1 (qcow2 version 3), as in qemu-img since QEMU 1.7. */
    private static boolean isV3(@Nullable String compat) {
        if (compat == null) {
            return true;
        }
        String c = compat.toLowerCase(Locale.ROOT);
        return c.equals("1.1") || c.equals("v3");
    }

    private static void qcow2Only(String option, @Nullable Object value) {
        if (value != null) {
            throw invalid(option + " applies to qcow2 images only");
        }
    }

    /** qemu-img rounds sizes up to whole 512-byte sectors; so do we. */
    private static long roundUpToSector(long size) {
        return (size + SECTOR - 1) / SECTOR * SECTOR;
    }

    private static BlockException invalid(String message) {
        return new BlockException(BlockErrorKind.INVALID_ARGUMENT, message);
    }
}
