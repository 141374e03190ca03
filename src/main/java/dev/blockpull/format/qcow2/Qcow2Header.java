package dev.blockpull.format.qcow2;

import dev.blockpull.format.BackingReference;
import dev.blockpull.format.ImageFormat;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The qcow2 header of cluster 0 with its extensions and backing file name (qcow2-notes §2, §4), as
 * a value: {@link HeaderParser} reads and validates it, {@link HeaderEncoder} writes it back (unknown
 * header bytes and unknown extensions verbatim), {@link #toBuilder()} derives a changed copy.
 */
record Qcow2Header(
        int version,
        int clusterBits,
        long size,
        int cryptMethod,
        int l1Size,
        long l1TableOffset,
        long refcountTableOffset,
        int refcountTableClusters,
        int nbSnapshots,
        long snapshotsOffset,
        long incompatibleFeatures,
        long compatibleFeatures,
        long autoclearFeatures,
        int refcountOrder,
        int headerLength,
        int compressionType,
        byte[] unknownHeaderBytes,
        List<HeaderExtension> extensions,
        @Nullable String backingFile,
        @Nullable String backingFormat) {

    int clusterSize() {
        return 1 << clusterBits;
    }

    int refcountBits() {
        return 1 << refcountOrder;
    }

    boolean isV3() {
        return version == 3;
    }

    boolean hasIncompatible(long bit) {
        return (incompatibleFeatures & bit) != 0;
    }

    boolean hasExtendedL2() {
        return hasIncompatible(FeatureBits.INCOMPAT_EXTENDED_L2);
    }

    boolean hasExtension(int type) {
        return extensions.stream().anyMatch(e -> e.type() == type);
    }

    @Nullable
    BackingReference backingReference() {
        if (backingFile == null) {
            return null;
        }
        ImageFormat fmt = null;
        if (backingFormat != null) {
            fmt = ImageFormat.parse(backingFormat);
        }
        return new BackingReference(backingFile, fmt);
    }

    Builder toBuilder() {
        return new Builder(this);
    }

    /** The backing file and format replaced (both null: no backing); the format extension follows the name. */
    Qcow2Header withBacking(@Nullable String file, @Nullable String format) {
        List<HeaderExtension> others = extensions.stream()
                .filter(e -> e.type() != HeaderExtension.BACKING_FORMAT)
                .toList();
        return toBuilder()
                .extensions(others)
                .backingFile(file)
                .backingFormat(file == null ? null : format)
                .build();
    }

    /** A header under construction; starts from an existing one or from an empty version 3 header. */
    static final class Builder {
        private int version = 3;
        private int clusterBits;
        private long size;
        private int cryptMethod;
        private int l1Size;
        private long l1TableOffset;
        private long refcountTableOffset;
        private int refcountTableClusters;
        private int nbSnapshots;
        private long snapshotsOffset;
        private long incompatibleFeatures;
        private long compatibleFeatures;
        private long autoclearFeatures;
        private int refcountOrder = 4;
        private int headerLength = HeaderLayout.V3_HEADER_LENGTH;
        private int compressionType;
        private byte[] unknownHeaderBytes = new byte[0];
        private List<HeaderExtension> extensions = List.of();
        private @Nullable String backingFile;
        private @Nullable String backingFormat;

        Builder() {}

        private Builder(Qcow2Header h) {
            version = h.version;
            clusterBits = h.clusterBits;
            size = h.size;
            cryptMethod = h.cryptMethod;
            l1Size = h.l1Size;
            l1TableOffset = h.l1TableOffset;
            refcountTableOffset = h.refcountTableOffset;
            refcountTableClusters = h.refcountTableClusters;
            nbSnapshots = h.nbSnapshots;
            snapshotsOffset = h.snapshotsOffset;
            incompatibleFeatures = h.incompatibleFeatures;
            compatibleFeatures = h.compatibleFeatures;
            autoclearFeatures = h.autoclearFeatures;
            refcountOrder = h.refcountOrder;
            headerLength = h.headerLength;
            compressionType = h.compressionType;
            unknownHeaderBytes = h.unknownHeaderBytes;
            extensions = h.extensions;
            backingFile = h.backingFile;
            backingFormat = h.backingFormat;
        }

        Builder version(int v) {
            version = v;
            return this;
        }

        Builder clusterBits(int bits) {
            clusterBits = bits;
            return this;
        }

        Builder size(long bytes) {
            size = bytes;
            return this;
        }

        Builder cryptMethod(int method) {
            cryptMethod = method;
            return this;
        }

        Builder l1(int entries, long offset) {
            l1Size = entries;
            l1TableOffset = offset;
            return this;
        }

        Builder refcountTable(long offset, int clusters) {
            refcountTableOffset = offset;
            refcountTableClusters = clusters;
            return this;
        }

        Builder snapshots(int count, long offset) {
            nbSnapshots = count;
            snapshotsOffset = offset;
            return this;
        }

        Builder incompatibleFeatures(long bits) {
            incompatibleFeatures = bits;
            return this;
        }

        Builder compatibleFeatures(long bits) {
            compatibleFeatures = bits;
            return this;
        }

        Builder autoclearFeatures(long bits) {
            autoclearFeatures = bits;
            return this;
        }

        Builder refcountOrder(int order) {
            refcountOrder = order;
            return this;
        }

        Builder headerLength(int bytes) {
            headerLength = bytes;
            return this;
        }

        Builder compressionType(int type) {
            compressionType = type;
            return this;
        }

        Builder unknownHeaderBytes(byte[] bytes) {
            unknownHeaderBytes = bytes;
            return this;
        }

        Builder extensions(List<HeaderExtension> exts) {
            extensions = List.copyOf(exts);
            return this;
        }

        Builder backingFile(@Nullable String file) {
            backingFile = file;
            return this;
        }

        Builder backingFormat(@Nullable String format) {
            backingFormat = format;
            return this;
        }

        Qcow2Header build() {
            return new Qcow2Header(
                    version,
                    clusterBits,
                    size,
                    cryptMethod,
                    l1Size,
                    l1TableOffset,
                    refcountTableOffset,
                    refcountTableClusters,
                    nbSnapshots,
                    snapshotsOffset,
                    incompatibleFeatures,
                    compatibleFeatures,
                    autoclearFeatures,
                    refcountOrder,
                    headerLength,
                    compressionType,
                    unknownHeaderBytes,
                    extensions,
                    backingFile,
                    backingFormat);
        }
    }
}
