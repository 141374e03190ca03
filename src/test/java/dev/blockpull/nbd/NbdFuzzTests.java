package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.testsupport.QemuTools;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Garbage and mutated traffic, from fixed seeds and in bounded amounts, to loopback only: every
 * bad client is disconnected (or answered), while another client keeps being served correctly,
 * and afterwards no connection thread, request or buffer is left behind.
 */
class NbdFuzzTests {

    static final int CONNECTIONS_PER_SEED = 60;
    static final long SIZE = 4L * 1024 * 1024;

    @TempDir
    Path root;

    QemuTools qemu;
    NbdFixture nbd;

    @BeforeEach
    void setUp() {
        qemu = QemuTools.require();
        qemu.create(root.resolve("good.qcow2"), "qcow2", "4M");
        qemu.io(root.resolve("good.qcow2"), "qcow2", "write -P 0x3c 0 4M");
        qemu.create(root.resolve("fuzz.qcow2"), "qcow2", "4M");
        nbd = new NbdFixture(root);
        nbd.open("good", "good.qcow2");
        nbd.open("fuzz", "fuzz.qcow2");
        nbd.export("good", "good", false);
        nbd.export("fuzz", "fuzz", true);
    }

    @AfterEach
    void tearDown() {
        nbd.close();
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 42, 4711})
    void garbageNeverHurtsOtherClientsNorLeaks(long seed) throws Exception {
        Random random = new Random(seed);
        int baselineThreads = nbdThreads();
        try (NbdTestClient good = NbdTestClient.go(nbd.port(), "good", true)) {
            for (int i = 0; i < CONNECTIONS_PER_SEED; i++) {
                byte[] traffic = switch (random.nextInt(5)) {
                    case 0 -> randomBytes(random, 1 + random.nextInt(4096));
                    case 1 -> mutate(random, validHandshakeAndRequests(random));
                    case 2 -> concat(handshake("fuzz"), randomRequests(random));
                    case 3 -> concat(randomOptions(random), randomBytes(random, random.nextInt(64)));
                    default -> concat(handshake("fuzz"), mutate(random, randomRequests(random)));
                };
                talk(traffic);
                if (i % 10 == 0) {
                    assertThat(good.readSimpleStructured(random.nextInt((int) SIZE - 4096), 4096))
                            .containsOnly(0x3c);
                }
            }
            assertThat(good.readSimpleStructured(0, 65536)).containsOnly(0x3c);
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(nbd.server.connectionCount()).isZero();
            assertThat(nbdThreads()).isLessThanOrEqualTo(baselineThreads);
            assertThat(threadsNamed(nbd.server.threadPrefix() + "client-")).isZero();
        });
        assertThat(nbd.server.buffers().outstanding()).isZero();
        assertThat(nbd.exports.get("fuzz").inFlightRequests()).isZero();
        assertThat(nbd.graph.get("fuzz").requests().inFlight()).isZero();
        assertThat(nbd.exports.get("good").clientCount()).isZero();
    }

    /** Sends the bytes, half-closes, and reads whatever comes back until the server hangs up. */
    private void talk(byte[] traffic) throws IOException {
        try (Socket s = new Socket("127.0.0.1", nbd.port())) {
            s.setSoTimeout(30_000);
            try {
                s.getOutputStream().write(traffic);
                s.shutdownOutput();
            } catch (SocketException e) {
                // the server hung up on us mid-send: a fine answer to garbage
            }
            InputStream in = s.getInputStream();
            byte[] sink = new byte[65536];
            try {
                while (in.read(sink) >= 0) {
                    // drain
                }
            } catch (SocketException e) {
                // reset by the server: also fine
            }
        }
    }

    @org.junit.jupiter.api.Test
    void stoppingTheServerEndsEveryThreadItStarted() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "good", false)) {
            assertThat(c.readSimple(0, 512)).containsOnly(0x3c);
            nbd.server.close();
            assertThat(c.closedByServer()).isTrue();
        }
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(nbdThreads()).isZero());
        assertThat(nbd.server.buffers().outstanding()).isZero();
    }

    private int nbdThreads() {
        return threadsNamed(nbd.server.threadPrefix());
    }

    private static int threadsNamed(String prefix) {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(prefix) && t.isAlive())
                .count();
    }

    // ------------------------------------------------------------------ traffic generators

    static byte[] handshake(String export) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        d.writeInt(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
        option(d, OPT_STRUCTURED_REPLY, new byte[0]);
        option(
                d,
                OPT_SET_META_CONTEXT,
                NbdTestClient.metaContextData(export, "base:allocation", "qemu:allocation-depth"));
        option(d, OPT_GO, NbdTestClient.goData(export));
        return b.toByteArray();
    }

    static byte[] randomOptions(Random r) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        d.writeInt(r.nextInt(4));
        int n = 1 + r.nextInt(6);
        for (int i = 0; i < n; i++) {
            int opt = r.nextInt(14);
            byte[] data = switch (r.nextInt(3)) {
                case 0 -> randomBytes(r, r.nextInt(64));
                case 1 -> NbdTestClient.goData(r.nextBoolean() ? "fuzz" : "nope");
                default -> NbdTestClient.metaContextData("fuzz", "base:allocation");
            };
            option(d, opt == 1 ? OPT_INFO : opt, data);
        }
        return b.toByteArray();
    }

    static byte[] validHandshakeAndRequests(Random r) throws IOException {
        return concat(handshake("fuzz"), randomRequests(r));
    }

    /** Requests with sane framing but random commands, flags, offsets and lengths. */
    static byte[] randomRequests(Random r) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        int n = 1 + r.nextInt(20);
        for (int i = 0; i < n; i++) {
            int type = r.nextInt(10);
            if (type == CMD_DISC && r.nextInt(4) != 0) {
                type = CMD_READ;
            }
            long offset = r.nextInt(8) == 0 ? r.nextLong() : (long) r.nextInt((int) (2 * SIZE));
            long length = type == CMD_WRITE
                    ? r.nextInt(65536)
                    : (r.nextInt(8) == 0 ? r.nextInt() & 0xffffffffL : r.nextInt(1 << 20));
            d.writeInt(REQUEST_MAGIC);
            d.writeShort(r.nextInt(4) == 0 ? r.nextInt(1 << 16) : r.nextInt(32));
            d.writeShort(type);
            d.writeLong(r.nextLong());
            d.writeLong(offset);
            d.writeInt((int) length);
            if (type == CMD_WRITE) {
                d.write(randomBytes(r, (int) length));
            }
        }
        return b.toByteArray();
    }

    private static void option(DataOutputStream d, int option, byte[] data) throws IOException {
        d.writeLong(IHAVEOPT);
        d.writeInt(option);
        d.writeInt(data.length);
        d.write(data);
    }

    static byte[] mutate(Random r, byte[] data) {
        byte[] out = data.clone();
        int flips = 1 + r.nextInt(8);
        for (int i = 0; i < flips && out.length > 0; i++) {
            out[r.nextInt(out.length)] ^= (byte) (1 << r.nextInt(8));
        }
        if (r.nextInt(4) == 0 && out.length > 1) {
            return java.util.Arrays.copyOf(out, r.nextInt(out.length));
        }
        return out;
    }

    static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
