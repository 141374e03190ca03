package dev.blockpull.nbd;

import java.nio.ByteBuffer;

/**
 * The numbers of the NBD protocol ({@code doc/proto.md} of the NetworkBlockDevice project), and
 * the two messages both the handshake and the refusals send.
 */
final class NbdProtocol {

    private NbdProtocol() {}

    // ------------------------------------------------------------------ handshake
    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;

    static final int FLAG_FIXED_NEWSTYLE = 1;
    static final int FLAG_NO_ZEROES = 1 << 1;
    static final int CLIENT_FLAG_FIXED_NEWSTYLE = 1;
    static final int CLIENT_FLAG_NO_ZEROES = 1 << 1;

    static final int OPT_EXPORT_NAME = 1;
    static final int OPT_ABORT = 2;
    static final int OPT_LIST = 3;
    static final int OPT_STARTTLS = 5;
    static final int OPT_INFO = 6;
    static final int OPT_GO = 7;
    static final int OPT_STRUCTURED_REPLY = 8;
    static final int OPT_LIST_META_CONTEXT = 9;
    static final int OPT_SET_META_CONTEXT = 10;

    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_INFO = 3;
    static final int REP_META_CONTEXT = 4;
    static final int REP_ERR_UNSUP = 0x80000001;
    static final int REP_ERR_POLICY = 0x80000002;
    static final int REP_ERR_INVALID = 0x80000003;
    static final int REP_ERR_TLS_REQD = 0x80000005;
    static final int REP_ERR_UNKNOWN = 0x80000006;
    static final int REP_ERR_SHUTDOWN = 0x80000007;
    static final int REP_ERR_TOO_BIG = 0x80000009;

    static final int INFO_EXPORT = 0;
    static final int INFO_NAME = 1;
    static final int INFO_DESCRIPTION = 2;
    static final int INFO_BLOCK_SIZE = 3;

    // ------------------------------------------------------------------ transmission flags
    static final int TFLAG_HAS_FLAGS = 1;
    static final int TFLAG_READ_ONLY = 1 << 1;
    static final int TFLAG_SEND_FLUSH = 1 << 2;
    static final int TFLAG_SEND_FUA = 1 << 3;
    static final int TFLAG_SEND_TRIM = 1 << 5;
    static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;
    static final int TFLAG_SEND_DF = 1 << 7;
    static final int TFLAG_CAN_MULTI_CONN = 1 << 8;
    static final int TFLAG_SEND_CACHE = 1 << 10;

    // ------------------------------------------------------------------ requests and replies
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;
    static final int REQUEST_HEADER_SIZE = 28;

    static final int CMD_READ = 0;
    static final int CMD_WRITE = 1;
    static final int CMD_DISC = 2;
    static final int CMD_FLUSH = 3;
    static final int CMD_TRIM = 4;
    static final int CMD_CACHE = 5;
    static final int CMD_WRITE_ZEROES = 6;
    static final int CMD_BLOCK_STATUS = 7;

    static final int CMD_FLAG_FUA = 1;
    static final int CMD_FLAG_NO_HOLE = 1 << 1;
    static final int CMD_FLAG_DF = 1 << 2;
    static final int CMD_FLAG_REQ_ONE = 1 << 3;
    static final int CMD_FLAG_FAST_ZERO = 1 << 4;
    static final int KNOWN_CMD_FLAGS =
            CMD_FLAG_FUA | CMD_FLAG_NO_HOLE | CMD_FLAG_DF | CMD_FLAG_REQ_ONE | CMD_FLAG_FAST_ZERO;

    static final int REPLY_FLAG_DONE = 1;
    static final int CHUNK_NONE = 0;
    static final int CHUNK_OFFSET_DATA = 1;
    static final int CHUNK_OFFSET_HOLE = 2;
    static final int CHUNK_BLOCK_STATUS = 5;
    static final int CHUNK_ERROR = 32769;
    static final int CHUNK_ERROR_OFFSET = 32770;

    // ------------------------------------------------------------------ errors
    static final int EPERM = 1;
    static final int EIO = 5;
    static final int ENOMEM = 12;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int EOVERFLOW = 75;
    static final int ENOTSUP = 95;
    static final int ESHUTDOWN = 108;

    // ------------------------------------------------------------------ metadata contexts
    static final String CONTEXT_BASE_ALLOCATION = "base:allocation";
    static final String CONTEXT_ALLOCATION_DEPTH = "qemu:allocation-depth";
    static final int CONTEXT_ID_BASE_ALLOCATION = 1;
    static final int CONTEXT_ID_ALLOCATION_DEPTH = 2;
    static final int STATE_HOLE = 1;
    static final int STATE_ZERO = 2;

    /** Longest option payload accepted in the handshake; a longer one means a broken client. */
    static final int MAX_OPTION_LENGTH = 64 * 1024;
    /** NBD names and strings are at most 4 KiB (proto.md). */
    static final int MAX_STRING = 4096;

    /** The server's first words: fixed newstyle, and no zeroes after the export-name answer if the client agrees. */
    static ByteBuffer greeting() {
        return ByteBuffer.allocate(18)
                .putLong(NBDMAGIC)
                .putLong(IHAVEOPT)
                .putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES))
                .flip();
    }

    /** The header of an option reply with {@code length} bytes of data after it. */
    static ByteBuffer optionReplyHeader(int option, int type, int length) {
        return ByteBuffer.allocate(20)
                .putLong(OPTION_REPLY_MAGIC)
                .putInt(option)
                .putInt(type)
                .putInt(length)
                .flip();
    }
}
