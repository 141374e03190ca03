package dev.blockpull.nbd;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Reads from a client's socket, spinning on its readable byte count for a short window before a
 * read that would block, as QEMU's IOThreads poll (poll-max-ns) before they sleep. A reader that
 * blocks is woken by the kernel only after a scheduler round trip, tens of microseconds on a VM,
 * which at queue depth 1 is most of a small request's time (measured with bench/nbd.sh on 2
 * vCPUs: 4 KiB reads at depth 1 go from ~47 to ~90 MiB/s with a 50 µs window).
 *
 * <p>The spin costs a CPU while it lasts, so it is only for a reader with nothing of its client in
 * flight: the client then sends its next request as soon as it has read the last reply, whereas
 * with requests in flight it waits for their replies, and the workers making them need the CPU (on
 * 2 vCPUs a spin there cost a third of the 4 KiB throughput at depth 16). And it is kept for
 * clients that are quick: it stops after a wait longer than {@link #KEEP_WINDOWS} windows (an idle
 * or slow client: a connection that waits for seconds spins once, for one window), and starts
 * again after a wait that short (measured including the blocking read's wake-up, which the spin
 * saves). Plain connections only: over TLS, {@code available()} counts decrypted bytes alone.
 * One per connection, used by its reader thread only.
 */
final class BusyPoll {

    /** A wait up to this many windows long keeps (or starts) the spinning. */
    static final int KEEP_WINDOWS = 4;

    private final SocketChannel socket;
    /** The socket's stream adaptor, only for {@link InputStream#available()} (FIONREAD). */
    private final InputStream readable;

    private final long windowNanos;
    /** Whether nothing of the client is in flight. */
    private final BooleanSupplier quiet;

    private final LongSupplier clock;
    private boolean spinning = true;

    /** @param quiet whether nothing of the client is in flight: the reader spins only then */
    BusyPoll(SocketChannel socket, Duration window, BooleanSupplier quiet) throws IOException {
        this(socket, window, quiet, System::nanoTime);
    }

    BusyPoll(SocketChannel socket, Duration window, BooleanSupplier quiet, LongSupplier clock) throws IOException {
        this.socket = socket;
        this.readable = socket.socket().getInputStream();
        this.windowNanos = window.toNanos();
        this.quiet = quiet;
        this.clock = clock;
    }

    /** Reads at least one byte into {@code dst}, blocking (after the spin) when none is there; -1 at end of stream. */
    int read(ByteBuffer dst) throws IOException {
        if (windowNanos == 0 || !quiet.getAsBoolean()) {
            return socket.read(dst);
        }
        long start = clock.getAsLong();
        if (spinning) {
            do {
                if (readable.available() > 0) {
                    return socket.read(dst);
                }
                Thread.onSpinWait();
            } while (clock.getAsLong() - start < windowNanos);
        }
        int n = socket.read(dst);
        spinning = clock.getAsLong() - start <= KEEP_WINDOWS * windowNanos;
        return n;
    }

    /** Whether the next read that finds nothing waiting spins first. */
    boolean spinning() {
        return spinning;
    }
}
