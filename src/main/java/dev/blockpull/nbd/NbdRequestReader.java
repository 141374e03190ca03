package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.*;

import dev.blockpull.io.BufferPool;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/**
 * Decodes the transmission-phase requests of one client. It reads ahead: one read usually brings
 * a whole header (and a small write's payload, and any requests pipelined behind it) instead of
 * one syscall per header and payload.
 */
final class NbdRequestReader {

    /** Bytes of requests read ahead from the socket per connection. */
    private static final int READ_AHEAD = 64 * 1024;

    private final NbdChannel ch;
    private final BufferPool.Account buffers;
    private final int maxRequestSize;
    /** Read mode: what was read ahead and not decoded yet. */
    private final ByteBuffer in = ByteBuffer.allocateDirect(READ_AHEAD).flip();

    NbdRequestReader(NbdChannel ch, BufferPool.Account buffers, int maxRequestSize) {
        this.ch = ch;
        this.buffers = buffers;
        this.maxRequestSize = maxRequestSize;
    }

    /**
     * The next request, a write's payload in a pooled buffer it owns; null at NBD_CMD_DISC.
     *
     * @throws NbdProtocolException when the client broke the framing
     * @throws EOFException         when the client closed the connection
     */
    @Nullable
    NbdRequest next() throws IOException, NbdProtocolException {
        fill(REQUEST_HEADER_SIZE);
        int magic = in.getInt();
        if (magic != REQUEST_MAGIC) {
            throw new NbdProtocolException("bad request magic 0x" + Integer.toHexString(magic));
        }
        int flags = Short.toUnsignedInt(in.getShort());
        int type = Short.toUnsignedInt(in.getShort());
        long cookie = in.getLong();
        long offset = in.getLong();
        long length = Integer.toUnsignedLong(in.getInt());
        if (type == CMD_DISC) {
            return null;
        }
        ByteBuffer payload = type == CMD_WRITE ? payload(length) : null;
        return new NbdRequest(flags, type, cookie, offset, length, payload);
    }

    /** Whether bytes of a further request were already read. */
    boolean hasReadAhead() {
        return in.hasRemaining();
    }

    /** The payload in a pooled buffer; null when no buffer could be made (it is read and dropped). */
    @Nullable
    private ByteBuffer payload(long length) throws IOException, NbdProtocolException {
        if (length > maxRequestSize) {
            // the payload cannot be skipped safely: proto.md allows a hard disconnect
            throw new NbdProtocolException("write of " + length + " bytes, more than the maximum " + maxRequestSize);
        }
        ByteBuffer payload;
        try {
            payload = buffers.acquire((int) length);
        } catch (OutOfMemoryError e) {
            // Out of direct memory for now: the client's data is still on the wire; reading past it
            // keeps the framing, so this request fails with ENOMEM and the connection lives on.
            skip(length);
            return null;
        }
        try {
            int buffered = Math.min(in.remaining(), payload.remaining());
            if (buffered > 0) {
                int at = in.position();
                payload.put(in.slice(at, buffered));
                in.position(at + buffered);
            }
            // the rest of a payload larger than what was read ahead goes straight in
            Wire.readFully(ch, payload);
        } catch (IOException | RuntimeException e) {
            buffers.release(payload);
            throw e;
        }
        return payload.flip();
    }

    /** Reads past {@code length} bytes through the read-ahead buffer. */
    private void skip(long length) throws IOException {
        long left = length;
        while (left > 0) {
            int step = (int) Math.min(left, in.capacity());
            fill(step);
            in.position(in.position() + step);
            left -= step;
        }
    }

    /** Makes at least {@code n} bytes readable, reading ahead what is there. */
    private void fill(int n) throws IOException {
        if (in.remaining() >= n) {
            return;
        }
        in.compact();
        try {
            while (in.position() < n) {
                if (ch.read(in) < 0) {
                    throw new EOFException("client closed the connection");
                }
            }
        } finally {
            in.flip();
        }
    }
}
