package dev.blockpull.format.qcow2;

import dev.blockpull.io.InvalidImageException;
import io.airlift.compress.zstd.ZstdDecompressor;
import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads compressed clusters (qcow2-notes §5.5): raw DEFLATE (QEMU's "zlib") or zstd frames. The
 * input is bounded by the descriptor's sector count and by the end of the file; the output is
 * exactly one cluster, and anything shorter is corruption.
 */
final class CompressedClusterReader {

    private final MetadataIo io;
    private final int clusterBits;
    private final boolean zstd;

    CompressedClusterReader(MetadataIo io, int clusterBits, int compressionType) {
        this.io = io;
        this.clusterBits = clusterBits;
        this.zstd = compressionType == 1;
    }

    /** Host offset bits of a compressed descriptor. */
    long hostOffset(long entry) {
        int x = 62 - (clusterBits - 8);
        return entry & ((1L << x) - 1);
    }

    /** Bytes of input the descriptor allows. */
    int inputLimit(long entry) {
        int x = 62 - (clusterBits - 8);
        long extra = (entry >>> x) & ((1L << (clusterBits - 8)) - 1);
        return (int) ((extra + 1) * 512 - (hostOffset(entry) & 511));
    }

    /** The host clusters a compressed cluster's sectors touch: first and last cluster index. */
    long[] hostClusterRange(long entry) {
        long start = hostOffset(entry) & ~511L;
        long end = (hostOffset(entry) & ~511L) + (long) (inputLimit(entry) + (hostOffset(entry) & 511)) - 1;
        return new long[] {start >> clusterBits, end >> clusterBits};
    }

    byte[] read(long entry) {
        long offset = hostOffset(entry);
        if (offset >= io.length()) {
            throw new InvalidImageException(
                    "Compressed cluster at 0x" + Long.toHexString(offset) + " lies beyond the end of the file");
        }
        int limit = (int) Math.min(inputLimit(entry), io.length() - offset);
        ByteBuffer in = ByteBuffer.allocate(limit);
        io.read(in, offset);
        byte[] out = new byte[1 << clusterBits];
        int produced =
                zstd ? inflateZstd(in.array(), in.position(), out) : inflateDeflate(in.array(), in.position(), out);
        if (produced != out.length) {
            throw new InvalidImageException("Compressed cluster at 0x" + Long.toHexString(offset) + " decompresses to "
                    + produced + " bytes instead of " + out.length);
        }
        return out;
    }

    private static int inflateDeflate(byte[] in, int length, byte[] out) {
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(in, 0, length);
            int produced = 0;
            while (produced < out.length) {
                int n = inflater.inflate(out, produced, out.length - produced);
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                produced += n;
            }
            return produced;
        } catch (DataFormatException e) {
            throw new InvalidImageException("Compressed cluster is not valid deflate data: " + e.getMessage());
        } finally {
            inflater.end();
        }
    }

    /**
     * QEMU's input ends with slack (the rest of the last 512-byte sector: zeros, or the start of
     * the next compressed cluster), so the frames are delimited here and each is decoded on its
     * own, until the cluster is full; what follows is never looked at (as in QEMU's
     * {@code qcow2_zstd_decompress}, which stops once the output is full).
     */
    private static int inflateZstd(byte[] in, int length, byte[] out) {
        ZstdDecompressor decompressor = new ZstdDecompressor();
        int produced = 0;
        int pos = 0;
        try {
            while (produced < out.length) {
                int frame = zstdFrameSize(in, pos, length);
                produced += decompressor.decompress(in, pos, frame, out, produced, out.length - produced);
                pos += frame;
            }
        } catch (RuntimeException e) {
            throw new InvalidImageException("Compressed cluster is not valid zstd data: " + e.getMessage());
        }
        return produced;
    }

    /** Bytes of the zstd frame starting at {@code pos} (RFC 8878 §3.1.1), which must end by {@code end}. */
    static int zstdFrameSize(byte[] in, int pos, int end) {
        int p = pos;
        if (end - p < 6 || littleEndian(in, p, 4) != 0xFD2FB528L) {
            throw new InvalidImageException("no zstd frame at input offset " + pos);
        }
        p += 4;
        int descriptor = in[p++] & 0xff;
        int contentSizeFlag = descriptor >>> 6;
        boolean singleSegment = (descriptor & 0x20) != 0;
        boolean checksum = (descriptor & 0x04) != 0;
        int dictionaryIdFlag = descriptor & 3;
        p += singleSegment ? 0 : 1;
        p += dictionaryIdFlag == 3 ? 4 : dictionaryIdFlag;
        p += contentSizeFlag == 0 ? (singleSegment ? 1 : 0) : 1 << contentSizeFlag;
        while (true) {
            if (end - p < 3) {
                throw new InvalidImageException("zstd frame at input offset " + pos + " is truncated");
            }
            int header = (int) littleEndian(in, p, 3);
            p += 3;
            int type = (header >>> 1) & 3;
            if (type == 3) {
                throw new InvalidImageException("zstd block of reserved type at input offset " + (p - 3));
            }
            p += type == 1 ? 1 : header >>> 3;
            if ((header & 1) != 0) {
                break;
            }
        }
        p += checksum ? 4 : 0;
        if (p > end) {
            throw new InvalidImageException("zstd frame at input offset " + pos + " is truncated");
        }
        return p - pos;
    }

    private static long littleEndian(byte[] b, int p, int bytes) {
        long v = 0;
        for (int i = bytes - 1; i >= 0; i--) {
            v = (v << 8) | (b[p + i] & 0xff);
        }
        return v;
    }
}
