package dev.blockpull.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import javax.security.auth.x500.X500Principal;
import org.jspecify.annotations.Nullable;

/**
 * The byte stream of one NBD client: the socket itself ({@link PlainChannel}), or TLS over it
 * after NBD_OPT_STARTTLS ({@link TlsChannel}). Closing and shutting down stay with the socket,
 * which the connection keeps: closing it ends either at once.
 */
interface NbdChannel {

    /** Reads at least one byte into {@code dst} (blocking); -1 at the end of the stream. */
    int read(ByteBuffer dst) throws IOException;

    /** Writes every remaining byte of {@code srcs}; callers serialise their writes. */
    void write(ByteBuffer... srcs) throws IOException;

    /** The subject of the client's verified certificate; null without TLS or without a client certificate. */
    default @Nullable X500Principal peer() {
        return null;
    }
}
