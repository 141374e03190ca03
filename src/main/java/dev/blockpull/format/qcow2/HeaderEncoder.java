package dev.blockpull.format.qcow2;

import static dev.blockpull.format.qcow2.HeaderLayout.BACKING_FILE_OFFSET;
import static dev.blockpull.format.qcow2.HeaderLayout.BACKING_FILE_SIZE;
import static dev.blockpull.format.qcow2.HeaderLayout.MAX_BACKING_NAME;
import static dev.blockpull.format.qcow2.HeaderLayout.QCOW2_MAGIC;
import static dev.blockpull.format.qcow2.HeaderLayout.V3_HEADER_LENGTH;
import static dev.blockpull.format.qcow2.HeaderLayout.V3_MIN_HEADER_LENGTH;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Cluster 0 as QEMU's {@code qcow2_update_header} lays it out: header, preserved unknown header
 * bytes, extensions (backing format first, the others in their original order), end marker,
 * backing name, zeros.
 */
final class HeaderEncoder {

    private HeaderEncoder() {}

    /** Throws when the header does not fit in cluster 0, as QEMU does ("No space left in the file header"). */
    static ByteBuffer encode(Qcow2Header h) {
        ByteBuffer out = ByteBuffer.allocate(h.clusterSize());
        putFields(h, out);
        List<HeaderExtension> extensions = orderedExtensions(h);
        byte[] name = h.backingFile() == null ? new byte[0] : h.backingFile().getBytes(StandardCharsets.UTF_8);
        int needed = out.position() + 8 + name.length;
        for (HeaderExtension e : extensions) {
            needed += e.encodedLength();
        }
        if (needed > out.capacity() || name.length > MAX_BACKING_NAME) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "Could not change the backing file to '" + h.backingFile() + "': No space left in the file header");
        }
        for (HeaderExtension e : extensions) {
            out.putInt(e.type()).putInt(e.data().length).put(e.data());
            out.position(out.position() + ((8 - (e.data().length & 7)) & 7));
        }
        out.putInt(HeaderExtension.END).putInt(0);
        if (name.length > 0) {
            int nameOffset = out.position();
            out.put(name);
            out.putLong(BACKING_FILE_OFFSET, nameOffset).putInt(BACKING_FILE_SIZE, name.length);
        }
        return out.clear();
    }

    /** The fixed fields in their on-disk order; the backing name's offset and size are filled in last. */
    private static void putFields(Qcow2Header h, ByteBuffer out) {
        out.putInt(QCOW2_MAGIC)
                .putInt(h.version())
                .putLong(0)
                .putInt(0)
                .putInt(h.clusterBits())
                .putLong(h.size())
                .putInt(h.cryptMethod())
                .putInt(h.l1Size())
                .putLong(h.l1TableOffset())
                .putLong(h.refcountTableOffset())
                .putInt(h.refcountTableClusters())
                .putInt(h.nbSnapshots())
                .putLong(h.snapshotsOffset());
        if (!h.isV3()) {
            return;
        }
        out.putLong(h.incompatibleFeatures())
                .putLong(h.compatibleFeatures())
                .putLong(h.autoclearFeatures())
                .putInt(h.refcountOrder())
                .putInt(h.headerLength());
        if (h.headerLength() > V3_MIN_HEADER_LENGTH) {
            out.put((byte) h.compressionType());
            out.position(Math.min(h.headerLength(), V3_HEADER_LENGTH));
            out.put(h.unknownHeaderBytes());
        }
    }

    private static List<HeaderExtension> orderedExtensions(Qcow2Header h) {
        List<HeaderExtension> ordered = new ArrayList<>();
        if (h.backingFile() != null && h.backingFormat() != null) {
            ordered.add(new HeaderExtension(
                    HeaderExtension.BACKING_FORMAT, h.backingFormat().getBytes(StandardCharsets.US_ASCII)));
        }
        for (HeaderExtension e : h.extensions()) {
            if (e.type() != HeaderExtension.BACKING_FORMAT) {
                ordered.add(e);
            }
        }
        return ordered;
    }
}
