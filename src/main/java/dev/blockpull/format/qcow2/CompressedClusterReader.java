package dev.blockpull.format.qcow2;

import dev.blockpull.io.InvalidImageException;
import io.airlift.compress.zstd.ZstdInputStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
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
            throw new InvalidImageException("Compressed cluster at 0x" + Long.toHexString(offset)
                    + " lies beyond the end of the file");
        }
        int limit = (int) Math.min(inputLimit(entry), io.length() - offset);
        ByteBuffer in = ByteBuffer.allocate(limit);
        io.read(in, offset);
        byte[] out = new byte[1 << clusterBits];
        int produced = zstd ? inflateZstd(in.array(), in.position(), out) : inflateDeflate(in.array(), in.position(), out);
        if (produced != out.length) {
            throw new InvalidImageException("Compressed cluster at 0x" + Long.toHexString(offset)
                    + " decompresses to " + produced + " bytes instead of " + out.length);
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

    private static int inflateZstd(byte[] in, int length, byte[] out) {
        int produced = 0;
        try (InputStream z = new ZstdInputStream(new ByteArrayInputStream(in, 0, length))) {
            while (produced < out.length) {
                int n = z.read(out, produced, out.length - produced);
                if (n < 0) {
                    break;
                }
                produced += n;
            }
        } catch (IOException | RuntimeException e) {
            if (produced < out.length) {
                throw new InvalidImageException("Compressed cluster is not valid zstd data: " + e.getMessage());
            }
        }
        return produced;
    }
}
