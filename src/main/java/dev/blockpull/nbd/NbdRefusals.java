package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.*;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says no to connections over a limit in words an NBD client shows its user: the server's
 * greeting, then NBD_REP_ERR_POLICY with the reason to each option the client tries, up to the
 * one that would open an export (qemu-io prints the reason; nbdinfo says the server refused). One thread does it
 * for all, each refusal bounded by a short timeout, and when refusals pile up past a small queue
 * the socket is just closed: a flood of connections costs a queue slot, never a thread.
 */
final class NbdRefusals implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NbdRefusals.class);
    private static final int QUEUE = 64;
    private static final int TIMEOUT_MILLIS = 1000;
    /** Option data a refused client may send with its first option; more is not read. */
    private static final int MAX_OPTION_DATA = 4096;
    /** Options a refused client may try before the connection is closed. */
    private static final int MAX_OPTIONS = 8;

    private final ThreadPoolExecutor executor;
    private final AtomicLong refused = new AtomicLong();

    NbdRefusals(ThreadFactory threads) {
        executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(QUEUE), threads);
        executor.prestartAllCoreThreads();
    }

    /** Refuses {@code ch} with {@code reason}; the socket is closed in every case. */
    void refuse(SocketChannel ch, String reason) {
        long n = refused.incrementAndGet();
        if (Long.bitCount(n) == 1) {
            // the 1st, 2nd, 4th, 8th... refusal: a flood shows in the log without filling it
            log.warn("Refused NBD connection {} ({} refused so far): {}", remote(ch), n, reason);
        }
        try {
            executor.execute(() -> tellAndClose(ch, reason));
        } catch (RejectedExecutionException busy) {
            closeQuietly(ch);
        }
    }

    long refusedCount() {
        return refused.get();
    }

    private static void tellAndClose(SocketChannel ch, String reason) {
        try {
            Wire.writeFully(ch, greeting());
            ch.socket().setSoTimeout(TIMEOUT_MILLIS);
            DataInputStream in = new DataInputStream(ch.socket().getInputStream());
            in.readInt(); // client flags
            byte[] text = reason.getBytes(StandardCharsets.UTF_8);
            // Clients try options that may fail (structured replies, meta contexts) before the one
            // that must not: each gets the refusal, and the one that opens an export ends it.
            for (int i = 0; i < MAX_OPTIONS; i++) {
                long magic = in.readLong();
                int option = in.readInt();
                long length = Integer.toUnsignedLong(in.readInt());
                // NBD_OPT_EXPORT_NAME has no error reply: closing is the only answer the protocol has
                if (magic != IHAVEOPT || option == OPT_EXPORT_NAME || option == OPT_ABORT || length > MAX_OPTION_DATA) {
                    return;
                }
                in.skipNBytes(length);
                Wire.writeFully(ch, optionReplyHeader(option, REP_ERR_POLICY, text.length), ByteBuffer.wrap(text));
                if (option == OPT_GO) {
                    return; // nbdinfo tries NBD_OPT_INFO first and NBD_OPT_GO after its failure
                }
            }
        } catch (SocketTimeoutException e) {
            log.debug("Refused NBD client {} sent no option in time", remote(ch));
        } catch (IOException | RuntimeException e) {
            log.debug("Refused NBD client {}: {}", remote(ch), e.toString());
        } finally {
            closeGracefully(ch);
        }
    }

    /**
     * Closing with unread bytes from the client (options it sent ahead) would reset the
     * connection, and the client could lose the refusal before reading it: end our side, let the
     * client read and hang up, then close.
     */
    private static void closeGracefully(SocketChannel ch) {
        try {
            ch.shutdownOutput();
            byte[] sink = new byte[4096];
            int drained = 0;
            for (int n;
                    drained < MAX_OPTION_DATA * MAX_OPTIONS
                            && (n = ch.socket().getInputStream().read(sink)) >= 0; ) {
                drained += n;
            }
        } catch (IOException | RuntimeException e) {
            // timed out or reset: closing anyway
        } finally {
            closeQuietly(ch);
        }
    }

    private static String remote(SocketChannel ch) {
        try {
            return String.valueOf(ch.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // refusing anyway
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
