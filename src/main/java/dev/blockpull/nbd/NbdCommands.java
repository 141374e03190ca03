package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.*;

import dev.blockpull.format.ChainExtent;
import dev.blockpull.graph.Attachment;
import dev.blockpull.graph.AttachmentClosedException;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.BufferPool;
import java.nio.ByteBuffer;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each transmission-phase command does to an export's attachment, as negotiated by one
 * connection, and the errno its failure is answered with.
 */
final class NbdCommands {

    private static final Logger log = LoggerFactory.getLogger(NbdCommands.class);
    /** Most bytes a CMD_CACHE copies at once. */
    private static final int CACHE_STEP = 4 << 20;

    private final NbdConnection connection;
    private final NbdReplies replies;
    private final BufferPool.Account buffers;
    private final int maxRequestSize;
    private final boolean structured;
    private final boolean baseAllocation;
    private final boolean allocationDepth;

    NbdCommands(
            NbdConnection connection,
            NbdReplies replies,
            BufferPool.Account buffers,
            int maxRequestSize,
            NbdHandshake.Negotiated negotiated) {
        this.connection = connection;
        this.replies = replies;
        this.buffers = buffers;
        this.maxRequestSize = maxRequestSize;
        this.structured = negotiated.structuredReplies();
        this.baseAllocation = negotiated.baseAllocation();
        this.allocationDepth = negotiated.allocationDepth();
    }

    /** Carries out {@code r} and answers it, a failure with its errno. */
    void execute(NbdExport ex, NbdRequest r) {
        try {
            handle(ex, r);
        } catch (Throwable t) {
            int errno = errno(t);
            if (errno == EIO) {
                log.warn("NBD {} of client {} on export '{}' failed", r.describe(), connection, ex.id(), t);
            } else {
                log.debug(
                        "NBD {} of client {} on export '{}' failed: {}",
                        r.describe(),
                        connection,
                        ex.id(),
                        t.toString());
            }
            if (t instanceof Error e && !(t instanceof OutOfMemoryError)) {
                throw e;
            }
            String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            replies.error(r, errno, message);
        }
    }

    /** Refuses {@code r} unexecuted: its export or the server is going away. */
    void refuse(NbdRequest r, String why) {
        replies.error(r, ESHUTDOWN, why);
    }

    static int errno(Throwable t) {
        if (t instanceof AttachmentClosedException) {
            return ESHUTDOWN; // the export is gone
        }
        if (t instanceof BlockException b) {
            return switch (b.kind()) {
                case INVALID_ARGUMENT -> EINVAL;
                case READ_ONLY -> EPERM;
                case NO_SPACE -> ENOSPC;
                default -> EIO;
            };
        }
        if (t instanceof OutOfMemoryError) {
            return ENOMEM;
        }
        return EIO;
    }

    private void handle(NbdExport ex, NbdRequest r) {
        Attachment a = ex.attachment();
        if ((r.flags() & ~KNOWN_CMD_FLAGS) != 0) {
            replies.error(r, EINVAL, "unknown command flags 0x" + Integer.toHexString(r.flags()));
            return;
        }
        long size = a.length();
        switch (r.type()) {
            case CMD_READ -> {
                if (r.length() > maxRequestSize) {
                    replies.error(r, EINVAL, "read of " + r.length() + " bytes exceeds the maximum " + maxRequestSize);
                } else if (!inRange(r, size)) {
                    replies.error(r, EINVAL, outOfRange(r, size));
                } else {
                    read(a, r);
                }
            }
            case CMD_WRITE -> {
                ByteBuffer data = r.payload();
                if (data == null) {
                    replies.error(r, ENOMEM, "no memory for a write of " + r.length() + " bytes now");
                    return;
                }
                if (writeRefused(ex, r, size)) {
                    return;
                }
                a.write(r.offset(), data);
                fuaAndReply(a, r);
            }
            case CMD_FLUSH -> {
                a.flush();
                replies.ok(r);
            }
            case CMD_TRIM -> {
                if (writeRefused(ex, r, size)) {
                    return;
                }
                // a trimmed range reads as zeros afterwards: stricter than proto.md requires,
                // and never lets data of a backing layer show through again
                a.writeZeroes(r.offset(), r.length(), true);
                fuaAndReply(a, r);
            }
            case CMD_WRITE_ZEROES -> {
                if (writeRefused(ex, r, size)) {
                    return;
                }
                if (r.has(CMD_FLAG_FAST_ZERO)) {
                    replies.error(r, ENOTSUP, "fast zeroing is not offered");
                    return;
                }
                a.writeZeroes(r.offset(), r.length(), !r.has(CMD_FLAG_NO_HOLE));
                fuaAndReply(a, r);
            }
            case CMD_CACHE -> {
                if (!inRange(r, size)) {
                    replies.error(r, EINVAL, outOfRange(r, size));
                    return;
                }
                cache(a, r);
                replies.ok(r);
            }
            case CMD_BLOCK_STATUS -> {
                if (!structured || (!baseAllocation && !allocationDepth)) {
                    replies.error(r, EINVAL, "block status needs structured replies and a meta context");
                } else if (r.length() == 0 || !inRange(r, size)) {
                    replies.error(r, EINVAL, outOfRange(r, size));
                } else {
                    blockStatus(a, r);
                }
            }
            default -> replies.error(r, EINVAL, "unknown command " + r.type());
        }
    }

    private boolean writeRefused(NbdExport ex, NbdRequest r, long size) {
        if (!ex.writable()) {
            replies.error(r, EPERM, "export '" + ex.id() + "' is read-only");
            return true;
        }
        if (!inRange(r, size)) {
            replies.error(r, EINVAL, outOfRange(r, size));
            return true;
        }
        return false;
    }

    private void fuaAndReply(Attachment a, NbdRequest r) {
        if (r.has(CMD_FLAG_FUA)) {
            a.flush();
        }
        replies.ok(r);
    }

    private static boolean inRange(NbdRequest r, long size) {
        return r.offset() >= 0 && r.offset() <= size && r.length() <= size - r.offset();
    }

    private static String outOfRange(NbdRequest r, long size) {
        return "request of " + r.length() + " bytes at " + Long.toUnsignedString(r.offset())
                + " lies outside the export (" + size + " bytes)";
    }

    private void read(Attachment a, NbdRequest r) {
        ByteBuffer buf = buffers.acquire((int) r.length());
        try {
            a.read(r.offset(), buf);
            replies.data(r, buf.flip());
        } finally {
            buffers.release(buf);
        }
    }

    /** CMD_CACHE as QEMU serves it: a prefetch, which copies into the top below a copy-on-read filter. */
    private void cache(Attachment a, NbdRequest r) {
        ByteBuffer scratch = buffers.acquire((int) Math.min(r.length(), CACHE_STEP));
        try {
            a.prefetch(r.offset(), r.length(), scratch);
        } finally {
            buffers.release(scratch);
        }
    }

    private void blockStatus(Attachment a, NbdRequest r) {
        List<ChainExtent> extents = a.chainStatus(r.offset(), r.length());
        if (extents.isEmpty()) {
            replies.error(r, EINVAL, "no allocation information for the range");
            return;
        }
        replies.blockStatus(r, extents, baseAllocation, allocationDepth);
    }
}
