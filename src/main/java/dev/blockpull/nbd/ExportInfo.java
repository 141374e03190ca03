package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * What the handshake tells a client of an export, encoded: its entry in NBD_OPT_LIST, its
 * NBD_REP_INFO replies, the answer to NBD_OPT_EXPORT_NAME.
 *
 * @param structured whether the client negotiated structured replies (it may then send NBD_CMD_FLAG_DF)
 */
record ExportInfo(NbdExport export, boolean structured) {

    /** Bytes of zeros after the NBD_OPT_EXPORT_NAME answer, unless the client asked for none. */
    private static final int LEGACY_ZEROES = 124;

    /** The payload of NBD_REP_SERVER. */
    ByteBuffer listEntry() {
        byte[] name = export.id().getBytes(StandardCharsets.UTF_8);
        byte[] description = export.description().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + name.length + description.length)
                .putInt(name.length)
                .put(name)
                .put(description)
                .flip();
    }

    /** The answer to NBD_OPT_EXPORT_NAME: size and transmission flags. */
    ByteBuffer exportNameReply(boolean noZeroes) {
        ByteBuffer out = ByteBuffer.allocate(10 + (noZeroes ? 0 : LEGACY_ZEROES));
        out.putLong(export.size()).putShort((short) transmissionFlags());
        return out.position(out.limit()).flip();
    }

    /** NBD_INFO_EXPORT: size and transmission flags. */
    ByteBuffer exportInfo() {
        return ByteBuffer.allocate(12)
                .putShort((short) INFO_EXPORT)
                .putLong(export.size())
                .putShort((short) transmissionFlags())
                .flip();
    }

    ByteBuffer nameInfo() {
        return textInfo(INFO_NAME, export.id());
    }

    ByteBuffer descriptionInfo() {
        return textInfo(INFO_DESCRIPTION, export.description());
    }

    /** NBD_INFO_BLOCK_SIZE: minimum 1 (any alignment works), preferred 4 KiB, maximum the request limit. */
    static ByteBuffer blockSizeInfo(int maxRequestSize) {
        return ByteBuffer.allocate(14)
                .putShort((short) INFO_BLOCK_SIZE)
                .putInt(1)
                .putInt(4096)
                .putInt(maxRequestSize)
                .flip();
    }

    private static ByteBuffer textInfo(int type, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + b.length).putShort((short) type).put(b).flip();
    }

    int transmissionFlags() {
        int f = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_SEND_FUA | TFLAG_CAN_MULTI_CONN | TFLAG_SEND_CACHE;
        if (export.writable()) {
            f |= TFLAG_SEND_TRIM | TFLAG_SEND_WRITE_ZEROES;
        } else {
            f |= TFLAG_READ_ONLY;
        }
        if (structured) {
            f |= TFLAG_SEND_DF;
        }
        return f;
    }
}
