package dev.blockpull.format.qcow2;

import dev.blockpull.format.BackingReference;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.InvalidImageException;
import dev.blockpull.io.UnsupportedFeatureException;
import org.jspecify.annotations.Nullable;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The qcow2 header of cluster 0 with its extensions and backing file name (qcow2-notes §2, §4).
 * Immutable; {@link #encode()} rebuilds cluster 0 exactly as QEMU's {@code qcow2_update_header}
 * would, keeping unknown header bytes and unknown extensions verbatim.
 */
record Qcow2Header(int version, int clusterBits, long size, int cryptMethod, int l1Size, long l1TableOffset,
                   long refcountTableOffset, int refcountTableClusters, int nbSnapshots, long snapshotsOffset,
                   long incompatibleFeatures, long compatibleFeatures, long autoclearFeatures, int refcountOrder,
                   int headerLength, int compressionType, byte[] unknownHeaderBytes,
                   List<HeaderExtension> extensions, @Nullable String backingFile,
                   @Nullable String backingFormat) {

    static final int MAGIC = 0x514649FB;
    static final int V2_HEADER_LENGTH = 72;
    static final int V3_MIN_HEADER_LENGTH = 104;
    /** QEMU 7.x writes v3 headers of this length (compression type byte plus padding). */
    static final int V3_HEADER_LENGTH = 112;
    static final int MAX_BACKING_NAME = 1023;
    static final int MAX_BACKING_FORMAT = 15;

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

    @Nullable BackingReference backingReference() {
        if (backingFile == null) {
            return null;
        }
        ImageFormat fmt = null;
        if (backingFormat != null) {
            fmt = ImageFormat.parse(backingFormat);
        }
        return new BackingReference(backingFile, fmt);
    }

    Qcow2Header withIncompatibleFeatures(long bits) {
        return new Qcow2Header(version, clusterBits, size, cryptMethod, l1Size, l1TableOffset, refcountTableOffset,
                refcountTableClusters, nbSnapshots, snapshotsOffset, bits, compatibleFeatures, autoclearFeatures,
                refcountOrder, headerLength, compressionType, unknownHeaderBytes, extensions, backingFile,
                backingFormat);
    }

    Qcow2Header withAutoclearFeatures(long bits) {
        return new Qcow2Header(version, clusterBits, size, cryptMethod, l1Size, l1TableOffset, refcountTableOffset,
                refcountTableClusters, nbSnapshots, snapshotsOffset, incompatibleFeatures, compatibleFeatures, bits,
                refcountOrder, headerLength, compressionType, unknownHeaderBytes, extensions, backingFile,
                backingFormat);
    }

    Qcow2Header withL1(int newSize, long newOffset) {
        return new Qcow2Header(version, clusterBits, size, cryptMethod, newSize, newOffset, refcountTableOffset,
                refcountTableClusters, nbSnapshots, snapshotsOffset, incompatibleFeatures, compatibleFeatures,
                autoclearFeatures, refcountOrder, headerLength, compressionType, unknownHeaderBytes, extensions,
                backingFile, backingFormat);
    }

    Qcow2Header withRefcountTable(long newOffset, int newClusters) {
        return new Qcow2Header(version, clusterBits, size, cryptMethod, l1Size, l1TableOffset, newOffset,
                newClusters, nbSnapshots, snapshotsOffset, incompatibleFeatures, compatibleFeatures,
                autoclearFeatures, refcountOrder, headerLength, compressionType, unknownHeaderBytes, extensions,
                backingFile, backingFormat);
    }

    /** The backing file and format replaced (both null: no backing); the format extension follows the name. */
    Qcow2Header withBacking(@Nullable String file, @Nullable String format) {
        List<HeaderExtension> exts = new ArrayList<>();
        for (HeaderExtension e : extensions) {
            if (e.type() != HeaderExtension.BACKING_FORMAT) {
                exts.add(e);
            }
        }
        return new Qcow2Header(version, clusterBits, size, cryptMethod, l1Size, l1TableOffset, refcountTableOffset,
                refcountTableClusters, nbSnapshots, snapshotsOffset, incompatibleFeatures, compatibleFeatures,
                autoclearFeatures, refcountOrder, headerLength, compressionType, unknownHeaderBytes, List.copyOf(exts),
                file, file == null ? null : format);
    }

    // ---------------------------------------------------------------- parsing

    /**
     * Parses and validates cluster 0 as QEMU's {@code qcow2_do_open} does (qcow2-notes §2.2), plus
     * the stricter checks of §11 against {@code fileSize}.
     */
    static Qcow2Header parse(ByteBuffer buf, long fileSize) {
        if (buf.remaining() < V2_HEADER_LENGTH) {
            throw new InvalidImageException("File is too short to be a qcow2 image (" + buf.remaining() + " bytes)");
        }
        if (buf.getInt(0) != MAGIC) {
            throw new InvalidImageException("Image is not in qcow2 format (bad magic)");
        }
        int version = buf.getInt(4);
        if (version != 2 && version != 3) {
            throw new UnsupportedFeatureException("Unsupported qcow2 version " + version);
        }
        long backingOffset = buf.getLong(8);
        int backingSize = buf.getInt(16);
        int clusterBits = buf.getInt(20);
        if (clusterBits < 9 || clusterBits > 21) {
            throw new InvalidImageException("Unsupported cluster size: 2^" + clusterBits
                    + " (qcow2 allows 512 B to 2 MiB)");
        }
        int clusterSize = 1 << clusterBits;
        long size = buf.getLong(24);
        int cryptMethod = buf.getInt(32);
        int l1Size = buf.getInt(36);
        long l1Offset = buf.getLong(40);
        long reftableOffset = buf.getLong(48);
        int reftableClusters = buf.getInt(56);
        int nbSnapshots = buf.getInt(60);
        long snapshotsOffset = buf.getLong(64);

        long incompat = 0;
        long compat = 0;
        long autoclear = 0;
        int refcountOrder = 4;
        int headerLength = V2_HEADER_LENGTH;
        if (version == 3) {
            if (buf.remaining() < V3_MIN_HEADER_LENGTH) {
                throw new InvalidImageException("qcow2 header truncated");
            }
            incompat = buf.getLong(72);
            compat = buf.getLong(80);
            autoclear = buf.getLong(88);
            refcountOrder = buf.getInt(96);
            headerLength = buf.getInt(100);
            if (headerLength < V3_MIN_HEADER_LENGTH) {
                throw new InvalidImageException("qcow2 header too small (" + headerLength + " bytes)");
            }
            if ((headerLength & 7) != 0) {
                throw new InvalidImageException("qcow2 header length " + headerLength + " is not a multiple of 8");
            }
        }
        if (headerLength > clusterSize || headerLength > buf.remaining()) {
            throw new InvalidImageException("qcow2 header exceeds cluster size");
        }
        if (refcountOrder < 0 || refcountOrder > 6) { // a u32 on disk: 0xffffffff is 4294967295, not -1
            throw new InvalidImageException("Reference count entry width too large; may not exceed 64 bits");
        }
        int compressionType = 0;
        byte[] unknownBytes = new byte[0];
        if (version == 3 && headerLength > V3_MIN_HEADER_LENGTH) {
            compressionType = buf.get(104) & 0xFF;
            int known = Math.min(headerLength, V3_HEADER_LENGTH);
            for (int i = 105; i < known; i++) {
                if (buf.get(i) != 0) {
                    throw new InvalidImageException("qcow2 header padding after the compression type is not zero");
                }
            }
            unknownBytes = new byte[headerLength - known];
            buf.get(known, unknownBytes);
        }

        checkFeatures(incompat, cryptMethod, compressionType, clusterBits);

        long virtualMax = 1L << 62;
        if (size < 0 || size > virtualMax) {
            throw new InvalidImageException("Image size " + size + " is out of range");
        }
        if (backingOffset < 0 || backingOffset > clusterSize) {
            throw new InvalidImageException("Invalid backing file offset");
        }
        String backingFile = null;
        if (backingOffset != 0) {
            if (backingSize < 0 || backingSize > MAX_BACKING_NAME || backingSize > clusterSize - backingOffset
                    || backingOffset + backingSize > buf.remaining()) {
                throw new InvalidImageException("Backing file name too long");
            }
            if (backingSize > 0) {
                byte[] name = new byte[backingSize];
                buf.get((int) backingOffset, name);
                backingFile = decodeName(name, "Backing file name");
            }
        }
        int extensionEnd = backingOffset != 0 ? (int) backingOffset : Math.min(clusterSize, buf.remaining());
        List<HeaderExtension> extensions = readExtensions(buf, headerLength, extensionEnd);
        String backingFormat = null;
        for (HeaderExtension e : extensions) {
            if (e.type() == HeaderExtension.BACKING_FORMAT) {
                if (e.data().length > MAX_BACKING_FORMAT) {
                    throw new InvalidImageException("ext_backing_format: len=" + e.data().length + " too large (>=16)");
                }
                backingFormat = decodeName(e.data(), "Backing format");
            }
        }
        if (backingFormat != null && backingFile != null) {
            ImageFormat.parse(backingFormat);
        }
        if (hasType(extensions, HeaderExtension.DATA_FILE)) {
            throw new UnsupportedFeatureException("external data files are not supported");
        }

        Qcow2Header h = new Qcow2Header(version, clusterBits, size, cryptMethod, l1Size, l1Offset, reftableOffset,
                reftableClusters, nbSnapshots, snapshotsOffset, incompat, compat, autoclear, refcountOrder,
                headerLength, compressionType, unknownBytes, List.copyOf(extensions), backingFile,
                backingFile == null ? null : backingFormat);
        h.checkTables(fileSize);
        return h;
    }

    private static void checkFeatures(long incompat, int cryptMethod, int compressionType, int clusterBits) {
        long unknown = incompat & ~FeatureBits.INCOMPAT_KNOWN;
        if (unknown != 0) {
            throw new UnsupportedFeatureException("Unsupported qcow2 feature(s): Unknown incompatible feature: "
                    + Long.toHexString(unknown));
        }
        if (cryptMethod != 0) {
            throw new UnsupportedFeatureException("encrypted qcow2 images are not supported");
        }
        if ((incompat & FeatureBits.INCOMPAT_DATA_FILE) != 0) {
            throw new UnsupportedFeatureException("external data files are not supported");
        }
        boolean typeBit = (incompat & FeatureBits.INCOMPAT_COMPRESSION) != 0;
        if (compressionType == 0 && typeBit) {
            throw new InvalidImageException("Compression type incompatible feature bit must not be set "
                    + "for the zlib compression type");
        }
        if (compressionType != 0 && !typeBit) {
            throw new InvalidImageException("Compression type incompatible feature bit must be set "
                    + "for a non-zlib compression type");
        }
        if (compressionType > 1) {
            throw new UnsupportedFeatureException("Unknown compression type " + compressionType);
        }
        if ((incompat & FeatureBits.INCOMPAT_EXTENDED_L2) != 0 && clusterBits < 14) {
            throw new InvalidImageException("Extended L2 entries are only supported with cluster sizes of at "
                    + "least 16384 bytes");
        }
    }

    private void checkTables(long fileSize) {
        int cs = clusterSize();
        if (refcountTableClusters <= 0) {
            throw new InvalidImageException("Image does not contain a reference count table");
        }
        validateTable("Reference count table", refcountTableOffset, (long) refcountTableClusters * cs, 1,
                8L * 1024 * 1024, fileSize);
        if (l1Size < 0) {
            throw new InvalidImageException("Active L1 table too large");
        }
        validateTable("Active L1 table", l1TableOffset, l1Size, 8, 32L * 1024 * 1024, fileSize);
        long l2Coverage = (long) cs * (cs / (hasExtendedL2() ? 16 : 8));
        long needed = size == 0 ? 0 : (size + l2Coverage - 1) / l2Coverage;
        if (needed > 4L * 1024 * 1024) {
            throw new InvalidImageException("Image is too big");
        }
        if (l1Size < needed) {
            throw new InvalidImageException("L1 table is too small");
        }
        if (nbSnapshots < 0 || nbSnapshots > 65536) {
            throw new InvalidImageException("Too many snapshots");
        }
        if (nbSnapshots > 0 && (snapshotsOffset <= 0 || (snapshotsOffset & (cs - 1)) != 0
                || snapshotsOffset >= fileSize)) {
            throw new InvalidImageException("Invalid snapshot table offset");
        }
    }

    private void validateTable(String what, long offset, long entries, int entrySize, long maxBytes, long fileSize) {
        long bytes = entries * entrySize;
        if (bytes > maxBytes) {
            throw new InvalidImageException(what + " too large");
        }
        if (entries == 0) {
            return;
        }
        if (offset <= 0 || (offset & (clusterSize() - 1)) != 0) {
            throw new InvalidImageException(what + " offset invalid");
        }
        if (offset > Long.MAX_VALUE - bytes || offset + bytes > fileSize) {
            throw new InvalidImageException(what + " lies beyond the end of the file");
        }
    }

    private static List<HeaderExtension> readExtensions(ByteBuffer buf, int start, int end) {
        List<HeaderExtension> result = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        int pos = start;
        while (pos + 8 <= end) {
            int type = buf.getInt(pos);
            long length = Integer.toUnsignedLong(buf.getInt(pos + 4));
            if (type == HeaderExtension.END) {
                break;
            }
            if (length > end - pos - 8) {
                throw new InvalidImageException("Header extension too large");
            }
            if (!seen.add(type)) {
                throw new InvalidImageException("Duplicate header extension 0x" + Integer.toHexString(type));
            }
            byte[] data = new byte[(int) length];
            buf.get(pos + 8, data);
            result.add(new HeaderExtension(type, data));
            pos += 8 + (int) ((length + 7) & ~7L);
        }
        return result;
    }

    private static boolean hasType(List<HeaderExtension> exts, int type) {
        return exts.stream().anyMatch(e -> e.type() == type);
    }

    private static String decodeName(byte[] bytes, String what) {
        for (byte b : bytes) {
            if (b == 0 || (b & 0xFF) < 0x20 || b == 0x7F) {
                throw new InvalidImageException(what + " contains NUL or control characters");
            }
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Cluster 0 as QEMU lays it out: header, preserved unknown header bytes, extensions (backing
     * format, others in their original order, feature table kept or added), end marker, backing
     * name, zeros. Throws when it does not fit, as QEMU does ("No space left in the file header").
     */
    ByteBuffer encode() {
        int cs = clusterSize();
        ByteBuffer out = ByteBuffer.allocate(cs);
        out.putInt(MAGIC).putInt(version).putLong(0).putInt(0).putInt(clusterBits).putLong(size)
                .putInt(cryptMethod).putInt(l1Size).putLong(l1TableOffset).putLong(refcountTableOffset)
                .putInt(refcountTableClusters).putInt(nbSnapshots).putLong(snapshotsOffset);
        if (isV3()) {
            out.putLong(incompatibleFeatures).putLong(compatibleFeatures).putLong(autoclearFeatures)
                    .putInt(refcountOrder).putInt(headerLength);
            if (headerLength > V3_MIN_HEADER_LENGTH) {
                out.put((byte) compressionType);
                out.position(Math.min(headerLength, V3_HEADER_LENGTH));
                out.put(unknownHeaderBytes);
            }
        }
        List<HeaderExtension> ordered = new ArrayList<>();
        if (backingFile != null && backingFormat != null) {
            ordered.add(new HeaderExtension(HeaderExtension.BACKING_FORMAT,
                    backingFormat.getBytes(StandardCharsets.US_ASCII)));
        }
        for (HeaderExtension e : extensions) {
            if (e.type() != HeaderExtension.BACKING_FORMAT) {
                ordered.add(e);
            }
        }
        byte[] name = backingFile == null ? new byte[0] : backingFile.getBytes(StandardCharsets.UTF_8);
        int needed = out.position() + 8 + name.length;
        for (HeaderExtension e : ordered) {
            needed += e.encodedLength();
        }
        if (needed > cs || name.length > MAX_BACKING_NAME) {
            throw new BlockException(BlockErrorKind.INVALID_ARGUMENT, "Could not change the backing file to '"
                    + backingFile + "': No space left in the file header");
        }
        for (HeaderExtension e : ordered) {
            out.putInt(e.type()).putInt(e.data().length).put(e.data());
            out.position(out.position() + ((8 - (e.data().length & 7)) & 7));
        }
        out.putInt(HeaderExtension.END).putInt(0);
        if (name.length > 0) {
            int nameOffset = out.position();
            out.put(name);
            out.putLong(8, nameOffset).putInt(16, name.length);
        }
        return out.clear();
    }

    /** Where the cluster-0 bytes of this header end (the backing name included). */
    int encodedLength() {
        ByteBuffer b = encode();
        int end = b.capacity();
        while (end > 0 && b.get(end - 1) == 0) {
            end--;
        }
        return end;
    }
}
