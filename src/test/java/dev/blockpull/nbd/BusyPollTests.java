package dev.blockpull.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reader's busy poll on a real loopback connection. Time is a clock the test steps, and what
 * the client sends "during the wait" it sends from inside the clock, so every case is exact.
 */
class BusyPollTests {

    private static final Duration WINDOW = Duration.ofMillis(1);
    private static final long MS = 1_000_000;
    /** For reads that must not spin: they have no reason to look at the time. */
    private static final LongSupplier CLOCK_NOT_TO_READ = () -> {
        throw new AssertionError("the clock was read");
    };

    private ServerSocketChannel listener;
    private SocketChannel client;
    private SocketChannel server;

    @BeforeEach
    void connect() throws IOException {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        client = SocketChannel.open(listener.getLocalAddress());
        server = listener.accept();
    }

    @AfterEach
    void close() throws IOException {
        client.close();
        server.close();
        listener.close();
    }

    @Test
    void bytesAlreadyWaitingAreReadAndTheSpinningStaysOn() throws IOException {
        send(3);
        BusyPoll poll = new BusyPoll(server, WINDOW, () -> true, new SteppingClock(10 * MS));

        assertThat(readAll(poll, 3)).isEqualTo(3);
        assertThat(poll.spinning()).isTrue();
    }

    @Test
    void bytesThatArriveDuringTheSpinAreReadAndTheSpinningStaysOn() throws IOException {
        SteppingClock clock = new SteppingClock(MS / 10).sendingOnCall(2, 5);
        BusyPoll poll = new BusyPoll(server, WINDOW, () -> true, clock);

        assertThat(readAll(poll, 5)).isEqualTo(5);
        assertThat(poll.spinning()).isTrue();
    }

    @Test
    void aWaitLongerThanFourWindowsStopsTheSpinning() throws IOException {
        // the spin gives up after one 10 ms step; the bytes come while the read blocks
        SteppingClock clock = new SteppingClock(10 * MS).sendingOnCall(2, 4);
        BusyPoll poll = new BusyPoll(server, WINDOW, () -> true, clock);

        assertThat(readAll(poll, 4)).isEqualTo(4);
        assertThat(poll.spinning()).isFalse();
    }

    @Test
    void aWaitOfUpToFourWindowsStartsTheSpinningAgain() throws IOException {
        SteppingClock clock = new SteppingClock(10 * MS).sendingOnCall(2, 1);
        BusyPoll poll = new BusyPoll(server, WINDOW, () -> true, clock);
        readAll(poll, 1);
        assertThat(poll.spinning()).isFalse();

        clock.step = BusyPoll.KEEP_WINDOWS * WINDOW.toNanos();
        send(1);
        readAll(poll, 1);

        assertThat(poll.spinning()).isTrue();
    }

    @Test
    void aZeroWindowReadsWithoutLookingAtTheClock() throws IOException {
        send(2);
        BusyPoll poll = new BusyPoll(server, Duration.ZERO, () -> true, CLOCK_NOT_TO_READ);

        assertThat(readAll(poll, 2)).isEqualTo(2);
    }

    @Test
    void aReaderWithRequestsInFlightReadsWithoutLookingAtTheClock() throws IOException {
        send(2);
        BusyPoll poll = new BusyPoll(server, WINDOW, () -> false, CLOCK_NOT_TO_READ);

        assertThat(readAll(poll, 2)).isEqualTo(2);
        assertThat(poll.spinning()).isTrue();
    }

    @Test
    void aClientThatClosesIsTheEndOfTheStreamAfterTheSpin() throws IOException {
        client.close();
        BusyPoll poll = new BusyPoll(server, WINDOW, () -> true, new SteppingClock(MS / 2));

        assertThat(poll.read(ByteBuffer.allocate(8))).isEqualTo(-1);
    }

    private int readAll(BusyPoll poll, int n) throws IOException {
        ByteBuffer dst = ByteBuffer.allocate(n);
        while (dst.hasRemaining()) {
            assertThat(poll.read(dst)).isPositive();
        }
        return dst.position();
    }

    private void send(int n) {
        try {
            ByteBuffer src = ByteBuffer.allocate(n);
            while (src.hasRemaining()) {
                client.write(src);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Advances by {@code step} at every reading; can have the client send on one of them. */
    private final class SteppingClock implements LongSupplier {

        long step;
        private long now;
        private final AtomicInteger calls = new AtomicInteger();
        private int sendOnCall = -1;
        private int sendBytes;

        SteppingClock(long step) {
            this.step = step;
        }

        SteppingClock sendingOnCall(int call, int bytes) {
            sendOnCall = call;
            sendBytes = bytes;
            return this;
        }

        @Override
        public long getAsLong() {
            if (calls.incrementAndGet() == sendOnCall) {
                send(sendBytes);
            }
            now += step;
            return now;
        }
    }
}
