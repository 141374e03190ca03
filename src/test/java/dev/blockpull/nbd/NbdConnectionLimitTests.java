package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.IHAVEOPT;
import static dev.blockpull.nbd.NbdProtocol.NBDMAGIC;
import static dev.blockpull.nbd.NbdProtocol.OPTION_REPLY_MAGIC;
import static dev.blockpull.nbd.NbdProtocol.OPT_GO;
import static dev.blockpull.nbd.NbdProtocol.REP_ERR_POLICY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.testsupport.ProcessResult;
import dev.blockpull.testsupport.QemuTools;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NBD connections are bounded in all and per client address, a half-open handshake is dropped
 * after the timeout, and a client over a limit is told why, in an NBD error reply.
 */
class NbdConnectionLimitTests {

    private static final Duration AWAIT = Duration.ofSeconds(20);

    @TempDir
    Path root;

    NbdFixture nbd;
    final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void closeEverything() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (nbd != null) {
            nbd.close();
        }
    }

    NbdFixture server(int total, int perClient, Duration handshake) {
        nbd = new NbdFixture(
                root,
                NbdServerSettings.defaults("127.0.0.1", 0)
                        .withWorkerThreads(2)
                        .withConnectionLimits(total, perClient)
                        .withHandshakeTimeout(handshake));
        return nbd;
    }

    @Test
    void aThousandConnectionsFromOneClientNeverHoldMoreThanItsLimitOfConnectionsOrThreads() throws IOException {
        server(64, 16, Duration.ofSeconds(60));
        int threadsBefore = serverThreads();
        int most = 0;

        for (int i = 0; i < 1000; i++) {
            sockets.add(connect("127.0.0.1"));
            most = Math.max(most, nbd.server.connectionCount());
        }
        await().atMost(AWAIT).until(() -> nbd.server.connectionCount() + nbd.server.refusedConnections() == 1000);

        assertThat(most).isLessThanOrEqualTo(16);
        assertThat(nbd.server.connectionCount()).isEqualTo(16);
        assertThat(nbd.server.refusedConnections()).isEqualTo(984);
        assertThat(serverThreads() - threadsBefore)
                .as("threads of the server beyond its fixed ones")
                .isLessThanOrEqualTo(16);
        for (Socket s : sockets) {
            s.close();
        }
        await().atMost(AWAIT).until(() -> nbd.server.connectionCount() == 0);
    }

    @Test
    void anotherClientAddressIsServedWhileOneIsAtItsLimit() throws IOException {
        server(64, 4, Duration.ofSeconds(60));
        for (int i = 0; i < 6; i++) {
            sockets.add(connect("127.0.0.1"));
        }
        await().atMost(AWAIT).until(() -> nbd.server.refusedConnections() == 2);

        sockets.add(connect("127.0.0.2"));

        await().atMost(AWAIT).until(() -> nbd.server.connectionCount() == 5);
        assertThat(nbd.server.refusedConnections()).isEqualTo(2);
    }

    @Test
    void theTotalLimitHoldsAcrossClientAddresses() throws IOException {
        server(6, 4, Duration.ofSeconds(60));
        for (int i = 0; i < 4; i++) {
            sockets.add(connect("127.0.0.1"));
        }
        for (int i = 0; i < 4; i++) {
            sockets.add(connect("127.0.0.2"));
        }

        await().atMost(AWAIT).until(() -> nbd.server.refusedConnections() == 2);
        assertThat(nbd.server.connectionCount()).isEqualTo(6);
    }

    @Test
    void aRefusedClientIsToldWhyInAnNbdErrorReplyToItsFirstOption() throws IOException {
        server(64, 1, Duration.ofSeconds(60));
        sockets.add(connect("127.0.0.1"));
        await().atMost(AWAIT).until(() -> nbd.server.connectionCount() == 1);

        try (Socket refused = connect("127.0.0.1")) {
            DataInputStream in = greeted(refused);
            sendOption(refused, OPT_GO, new byte[] {0, 0, 0, 0, 0, 0});

            assertThat(in.readLong()).isEqualTo(OPTION_REPLY_MAGIC);
            assertThat(in.readInt()).isEqualTo(OPT_GO);
            assertThat(in.readInt()).isEqualTo(REP_ERR_POLICY);
            byte[] text = new byte[in.readInt()];
            in.readFully(text);
            assertThat(new String(text, StandardCharsets.UTF_8))
                    .contains("too many NBD connections from 127.0.0.1")
                    .contains("max-connections-per-client");
            assertThat(in.read()).as("the server closes after the refusal").isEqualTo(-1);
        }
    }

    @Test
    void qemuIoShowsItsUserWhyItWasRefused() throws IOException {
        QemuTools.requireTool("qemu-io");
        server(64, 1, Duration.ofSeconds(60));
        sockets.add(connect("127.0.0.1"));
        await().atMost(AWAIT).until(() -> nbd.server.connectionCount() == 1);

        ProcessResult r = QemuTools.run(
                List.of("qemu-io", "-f", "raw", "-c", "read 0 512", nbd.uri("any")), Duration.ofSeconds(30));

        assertThat(r.output())
                .contains("Denied by server for option 7 (go)")
                .contains("too many NBD connections from 127.0.0.1");
    }

    @Test
    void aClientThatDoesNotFinishItsHandshakeIsDisconnectedAfterTheTimeout() throws IOException {
        server(64, 16, Duration.ofMillis(300));
        Socket idle = connect("127.0.0.1");
        sockets.add(idle);
        DataInputStream in = greeted(idle);
        await().atMost(AWAIT).until(() -> nbd.server.connectionCount() == 1);

        await().atMost(AWAIT).until(() -> nbd.server.connectionCount() == 0);
        idle.setSoTimeout((int) AWAIT.toMillis());
        assertThat(readsEndOfStream(in)).isTrue();
    }

    @Test
    void theDefaultsBoundConnectionsAndHandshakesAsConfigured() {
        NbdServerSettings defaults = NbdServerSettings.defaults("0.0.0.0", 10809);

        assertThat(defaults.maxConnections()).isEqualTo(256);
        assertThat(defaults.maxConnectionsPerClient()).isEqualTo(32);
        assertThat(defaults.handshakeTimeout()).isEqualTo(Duration.ofSeconds(5));
    }

    // ------------------------------------------------------------------ helpers

    private Socket connect(String from) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", nbd.port()), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Reads the server's greeting and sends fixed-newstyle client flags. */
    private static DataInputStream greeted(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        assertThat(in.readLong()).isEqualTo(NBDMAGIC);
        assertThat(in.readLong()).isEqualTo(IHAVEOPT);
        in.readUnsignedShort();
        s.getOutputStream().write(new byte[] {0, 0, 0, 3});
        return in;
    }

    private static void sendOption(Socket s, int option, byte[] data) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16 + data.length);
        b.putLong(IHAVEOPT).putInt(option).putInt(data.length).put(data);
        s.getOutputStream().write(b.array());
    }

    private static boolean readsEndOfStream(DataInputStream in) throws IOException {
        try {
            return in.read() == -1;
        } catch (EOFException | java.net.SocketException reset) {
            return true;
        }
    }

    private int serverThreads() {
        String prefix = nbd.server.threadPrefix();
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(prefix))
                .count();
    }
}
