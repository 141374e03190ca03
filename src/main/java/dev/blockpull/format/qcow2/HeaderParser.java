package dev.blockpull.format.qcow2;

import static dev.blockpull.format.qcow2.HeaderLayout.*;

import dev.blockpull.format.ImageFormat;
import dev.blockpull.io.InvalidImageException;
import dev.blockpull.io.UnsupportedFeatureException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Reads cluster 0 into a {@link Qcow2Header}, validating it as QEMU's {@code qcow2_do_open} does
 * (qcow2-notes §2.2) plus the stricter checks of §11: a header that parses is safe to use.
 */
final class HeaderParser {

    private HeaderParser() {}

    /**
     * Parses and validates cluster 0 as QEMU's {@code qcow2_do_open} does (qcow2-notes §2.2), plus
     * the stricter checks of §11 against {@code fileSize}.
     */
    static Qcow2Header parse(ByteBuffer buf, long fileSize) {
        if (buf.remaining() < V2_HEADER_LENGTH) {
            throw new InvalidImageException("File is too short to be a qcow2 image (" + buf.remaining() + " bytes)");
        }
        if (buf.getInt(MAGIC) != QCOW2_MAGIC) {
            throw new InvalidImageException("Image is not in qcow2 format (bad magic)");
        }
        int version = buf.getInt(VERSION);
        if (version != 2 && version != 3) {
            throw new UnsupportedFeatureException("Unsupported qcow2 version " + version);
        }
        long backingOffset = buf.getLong(BACKING_FILE_OFFSET);
        int backingSize = buf.getInt(BACKING_FILE_SIZE);
        int clusterBits = buf.getInt(CLUSTER_BITS);
        if (clusterBits < 9 || clusterBits > 21) {
            throw new InvalidImageException(
                    "Unsupported cluster size: 2^" + clusterBits + " (qcow2 allows 512 B to 2 MiB)");
        }
        int clusterSize = 1 << clusterBits;
        long size = buf.getLong(SIZE);
        int cryptMethod = buf.getInt(CRYPT_METHOD);
        int l1Size = buf.getInt(L1_SIZE);
        long l1Offset = buf.getLong(L1_TABLE_OFFSET);
        long reftableOffset = buf.getLong(REFCOUNT_TABLE_OFFSET);
        int reftableClusters = buf.getInt(REFCOUNT_TABLE_CLUSTERS);
        int nbSnapshots = buf.getInt(NB_SNAPSHOTS);
        long snapshotsOffset = buf.getLong(SNAPSHOTS_OFFSET);

        long incompat = 0;
        long compat = 0;
        long autoclear = 0;
        int refcountOrder = 4;
        int headerLength = V2_HEADER_LENGTH;
        if (version == 3) {
            if (buf.remaining() < V3_MIN_HEADER_LENGTH) {
                throw new InvalidImageException("qcow2 header truncated");
            }
            incompat = buf.getLong(INCOMPATIBLE_FEATURES);
            compat = buf.getLong(COMPATIBLE_FEATURES);
            autoclear = buf.getLong(AUTOCLEAR_FEATURES);
            refcountOrder = buf.getInt(REFCOUNT_ORDER);
            headerLength = buf.getInt(HEADER_LENGTH);
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
            compressionType = buf.get(COMPRESSION_TYPE) & 0xFF;
            int known = Math.min(headerLength, V3_HEADER_LENGTH);
            for (int i = COMPRESSION_TYPE + 1; i < known; i++) {
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
        String backingFile = readBackingFile(buf, backingOffset, backingSize, clusterSize);
        int extensionEnd = backingOffset != 0 ? (int) backingOffset : Math.min(clusterSize, buf.remaining());
        List<HeaderExtension> extensions = readExtensions(buf, headerLength, extensionEnd);
        String backingFormat = backingFormat(extensions);
        if (backingFormat != null && backingFile != null) {
            ImageFormat.parse(backingFormat);
        }
        if (hasType(extensions, HeaderExtension.DATA_FILE)) {
            throw new UnsupportedFeatureException("external data files are not supported");
        }

        Qcow2Header h = new Qcow2Header.Builder()
                .version(version)
                .clusterBits(clusterBits)
                .size(size)
                .cryptMethod(cryptMethod)
                .l1(l1Size, l1Offset)
                .refcountTable(reftableOffset, reftableClusters)
                .snapshots(nbSnapshots, snapshotsOffset)
                .incompatibleFeatures(incompat)
                .compatibleFeatures(compat)
                .autoclearFeatures(autoclear)
                .refcountOrder(refcountOrder)
                .headerLength(headerLength)
                .compressionType(compressionType)
                .unknownHeaderBytes(unknownBytes)
                .extensions(extensions)
                .backingFile(backingFile)
                .backingFormat(backingFile == null ? null : backingFormat)
                .build();
        checkTables(h, fileSize);
        return h;
    }

    private static void checkFeatures(long incompat, int cryptMethod, int compressionType, int clusterBits) {
        long unknown = incompat & ~FeatureBits.INCOMPAT_KNOWN;
        if (unknown != 0) {
            throw new UnsupportedFeatureException(
                    "Unsupported qcow2 feature(s): Unknown incompatible feature: " + Long.toHexString(unknown));
        }
        if (cryptMethod != 0) {
            throw new UnsupportedFeatureException("encrypted qcow2 images are not supported");
        }
        if ((incompat & FeatureBits.INCOMPAT_DATA_FILE) != 0) {
            throw new UnsupportedFeatureException("external data files are not supported");
        }
        boolean typeBit = (incompat & FeatureBits.INCOMPAT_COMPRESSION) != 0;
        if (compressionType == 0 && typeBit) {
            throw new InvalidImageException(
                    "Compression type incompatible feature bit must not be set for the zlib compression type");
        }
        if (compressionType != 0 && !typeBit) {
            throw new InvalidImageException(
                    "Compression type incompatible feature bit must be set for a non-zlib compression type");
        }
        if (compressionType > 1) {
            throw new UnsupportedFeatureException("Unknown compression type " + compressionType);
        }
        if ((incompat & FeatureBits.INCOMPAT_EXTENDED_L2) != 0 && clusterBits < 14) {
            throw new InvalidImageException(
                    "Extended L2 entries are only supported with cluster sizes of at least 16384 bytes");
        }
    }

    private static void checkTables(Qcow2Header h, long fileSize) {
        int cs = h.clusterSize();
        if (h.refcountTableClusters() <= 0) {
            throw new InvalidImageException("Image does not contain a reference count table");
        }
        validateTable(
                cs,
                "Reference count table",
                h.refcountTableOffset(),
                (long) h.refcountTableClusters() * cs,
                1,
                8L * 1024 * 1024,
                fileSize);
        if (h.l1Size() < 0) {
            throw new InvalidImageException("Active L1 table too large");
        }
        validateTable(cs, "Active L1 table", h.l1TableOffset(), h.l1Size(), 8, 32L * 1024 * 1024, fileSize);
        long l2Coverage = (long) cs * (cs / (h.hasExtendedL2() ? 16 : 8));
        long needed = h.size() == 0 ? 0 : (h.size() + l2Coverage - 1) / l2Coverage;
        if (needed > 4L * 1024 * 1024) {
            throw new InvalidImageException("Image is too big");
        }
        if (h.l1Size() < needed) {
            throw new InvalidImageException("L1 table is too small");
        }
        if (h.nbSnapshots() < 0 || h.nbSnapshots() > 65536) {
            throw new InvalidImageException("Too many snapshots");
        }
        if (h.nbSnapshots() > 0
                && (h.snapshotsOffset() <= 0
                        || (h.snapshotsOffset() & (cs - 1)) != 0
                        || h.snapshotsOffset() >= fileSize)) {
            throw new InvalidImageException("Invalid snapshot table offset");
        }
    }

    private static void validateTable(
            int clusterSize, String what, long offset, long entries, int entrySize, long maxBytes, long fileSize) {
        long bytes = entries * entrySize;
        if (bytes > maxBytes) {
            throw new InvalidImageException(what + " too large");
        }
        if (entries == 0) {
            return;
        }
        if (offset <= 0 || (offset & (clusterSize - 1)) != 0) {
            throw new InvalidImageException(what + " offset invalid");
        }
        if (offset > Long.MAX_VALUE - bytes || offset + bytes > fileSize) {
            throw new InvalidImageException(what + " lies beyond the end of the file");
        }
    }

    private static @Nullable String readBackingFile(ByteBuffer buf, long offset, int size, int clusterSize) {
        if (offset == 0) {
            return null;
        }
        if (size < 0 || size > MAX_BACKING_NAME || size > clusterSize - offset || offset + size > buf.remaining()) {
            throw new InvalidImageException("Backing file name too long");
        }
        if (size == 0) {
            return null;
        }
        byte[] name = new byte[size];
        buf.get((int) offset, name);
        return decodeName(name, "Backing file name");
    }

    private static @Nullable String backingFormat(List<HeaderExtension> extensions) {
        String format = null;
        for (HeaderExtension e : extensions) {
            if (e.type() == HeaderExtension.BACKING_FORMAT) {
                if (e.data().length > MAX_BACKING_FORMAT) {
                    throw new InvalidImageException("ext_backing_format: len=" + e.data().length + " too large (>=16)");
                }
                format = decodeName(e.data(), "Backing format");
            }
        }
        return format;
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
}
