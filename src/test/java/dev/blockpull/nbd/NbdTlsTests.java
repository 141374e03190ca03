package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.blockpull.testsupport.TestPki;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NBD over TLS on the wire: what a client may do before NBD_OPT_STARTTLS (as qemu-nbd answers),
 * client certificates, per-export allow-lists, and certificate rotation.
 */
class NbdTlsTests {

    /** As RFC 4514 writes the subject /CN=client-a/O=...: the last RDN first. */
    static final String ALLOWED = "O=Blockpull tests,CN=client-a";

    @TempDir
    static Path pkiDir;

    static TestPki pki;
    static Path clientA;
    static Path clientB;
    static Path stranger;

    @TempDir
    Path root;

    Path serverDir;
    NbdFixture nbd;

    @BeforeAll
    static void certificates() {
        pki = TestPki.create(pkiDir.resolve("ca"), "Blockpull test CA");
        clientA = pki.client(pkiDir.resolve("client-a"), "/CN=client-a/O=Blockpull tests");
        clientB = pki.client(pkiDir.resolve("client-b"), "/CN=client-b/O=Blockpull tests");
        stranger = TestPki.create(pkiDir.resolve("other-ca"), "Someone else's CA")
                .client(pkiDir.resolve("stranger"), "/CN=client-a/O=Blockpull tests");
    }

    @BeforeEach
    void setUp() throws IOException {
        serverDir = root.resolve("tls");
        TestPki.ServerFiles files = pki.server(serverDir, "nbd-server-1");
        nbd = new NbdFixture(
                root,
                NbdServerSettings.defaults("127.0.0.1", 0),
                new TlsCredentials(
                        new TlsCredentials.PemFiles(files.certificate(), files.privateKey(), files.caCertificate())));
        try (RandomAccessFile f = new RandomAccessFile(root.resolve("disk.raw").toFile(), "rw")) {
            f.setLength(1 << 20);
        }
        nbd.open("disk", "disk.raw");
        nbd.export("open", "disk", true);
        nbd.exports.add("private", "disk", false, List.of(ALLOWED));
    }

    @AfterEach
    void tearDown() {
        if (nbd != null) {
            nbd.close();
        }
    }

    private NbdTestClient plainClient() throws IOException {
        NbdTestClient c = NbdTestClient.raw(nbd.port());
        c.clientFlags(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
        return c;
    }

    private NbdTestClient tlsClient(Path dir) throws Exception {
        return NbdTestClient.startTls(nbd.port(), TlsClientContext.of(dir, true));
    }

    @Test
    void everyOptionButStartTlsIsRefusedWithTlsRequiredAndTheClientMayGoOn() throws Exception {
        try (NbdTestClient c = plainClient()) {
            for (int option : List.of(OPT_LIST, OPT_GO, OPT_INFO, OPT_STRUCTURED_REPLY, OPT_LIST_META_CONTEXT, 99)) {
                byte[] data = option == OPT_GO || option == OPT_INFO ? NbdTestClient.goData("open") : new byte[0];
                List<NbdTestClient.OptionReply> replies = c.option(option, data);
                assertThat(replies)
                        .as("option %d", option)
                        .singleElement()
                        .satisfies(r -> assertThat(r.type()).isEqualTo(REP_ERR_TLS_REQD))
                        .satisfies(r -> assertThat(r.text()).contains("not permitted before TLS"));
            }
            assertThat(c.option(OPT_STARTTLS, new byte[0]))
                    .singleElement()
                    .satisfies(r -> assertThat(r.type()).isEqualTo(REP_ACK));
        }
    }

    @Test
    void abortBeforeStartTlsIsAnsweredTlsRequiredAndEndsTheConnection() throws Exception {
        try (NbdTestClient c = plainClient()) {
            assertThat(c.option(OPT_ABORT, new byte[0]).get(0).type()).isEqualTo(REP_ERR_TLS_REQD);
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void exportNameBeforeStartTlsHangsUp() throws Exception {
        try (NbdTestClient c = plainClient()) {
            c.sendOption(OPT_EXPORT_NAME, "open".getBytes());
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void startTlsWithDataIsInvalidAndHangsUp() throws Exception {
        try (NbdTestClient c = plainClient()) {
            assertThat(c.option(OPT_STARTTLS, new byte[] {1}).get(0).type()).isEqualTo(REP_ERR_INVALID);
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void aClientWithACertificateOfTheCaWritesAndReadsOverTls() throws Exception {
        byte[] data = new byte[64 * 1024];
        Arrays.fill(data, (byte) 0x5a);
        try (NbdTestClient c = tlsClient(clientB)) {
            c.expectAck(c.option(OPT_GO, NbdTestClient.goData("open")));
            assertThat(c.command(CMD_WRITE, 0, 4096, data.length, data)).isZero();
            assertThat(c.readSimple(4096, data.length)).isEqualTo(data);
            assertThat(((SSLSocket) c.socket).getSession().getProtocol()).isEqualTo("TLSv1.3");
            c.disconnect();
        }
    }

    @Test
    void pipelinedRequestsOverTlsAllGetTheirReplyAndDisconnectAnswersThemFirst() throws Exception {
        int n = 200;
        try (NbdTestClient c = tlsClient(clientA)) {
            c.expectAck(c.option(OPT_STRUCTURED_REPLY, new byte[0]));
            c.expectAck(c.option(OPT_GO, NbdTestClient.goData("open")));
            for (int i = 0; i < n; i++) {
                byte[] data = new byte[4096];
                Arrays.fill(data, (byte) i);
                c.send(0, CMD_WRITE, i, (long) i * 4096, data.length, data);
            }
            c.disconnect();
            java.util.Set<Long> answered = new java.util.HashSet<>();
            for (int i = 0; i < n; i++) {
                NbdTestClient.Reply r = c.readReply();
                assertThat(r.error()).isZero();
                answered.add(r.cookie());
            }
            assertThat(answered).hasSize(n);
            assertThat(c.closedByServer()).isTrue();
        }
        try (NbdTestClient c = tlsClient(clientA)) {
            c.expectAck(c.option(OPT_STRUCTURED_REPLY, new byte[0]));
            c.expectAck(c.option(OPT_GO, NbdTestClient.goData("open")));
            byte[] all = c.readSimpleStructured(0, n * 4096);
            for (int i = 0; i < n; i++) {
                assertThat(Arrays.copyOfRange(all, i * 4096, (i + 1) * 4096))
                        .as("block %d", i)
                        .containsOnly((byte) i);
            }
        }
    }

    @Test
    void startTlsAgainOverTlsIsInvalid() throws Exception {
        try (NbdTestClient c = tlsClient(clientA)) {
            assertThat(c.option(OPT_STARTTLS, new byte[0]).get(0).type()).isEqualTo(REP_ERR_INVALID);
            c.expectAck(c.option(OPT_GO, NbdTestClient.goData("open")));
        }
    }

    @Test
    void aClientWithoutACertificateFailsTheHandshakeWhenAClientCaIsConfigured() {
        assertThatThrownBy(() -> {
                    try (NbdTestClient c = NbdTestClient.startTls(nbd.port(), TlsClientContext.of(clientA, false))) {
                        c.option(OPT_LIST, new byte[0]); // TLS 1.3 reports the refused certificate at the first read
                    }
                })
                .isInstanceOf(IOException.class);
    }

    @Test
    void withoutAClientCaAnyTlsClientMayOpenExportsWithoutAnAllowList() throws Exception {
        nbd.close();
        TestPki.ServerFiles files = pki.server(root.resolve("tls-2"), "nbd-server-1");
        nbd = new NbdFixture(
                root,
                NbdServerSettings.defaults("127.0.0.1", 0),
                TlsCredentials.of(files.certificate(), files.privateKey(), null));
        nbd.open("disk", "disk.raw");
        nbd.export("open", "disk", false);
        nbd.exports.add("private", "disk", false, List.of(ALLOWED));

        try (NbdTestClient c = NbdTestClient.startTls(nbd.port(), TlsClientContext.of(clientA, false))) {
            assertThat(listed(c)).containsExactly("open");
            assertThat(c.option(OPT_GO, NbdTestClient.goData("private")))
                    .singleElement()
                    .satisfies(r -> assertThat(r.type()).isEqualTo(REP_ERR_POLICY))
                    .satisfies(r -> assertThat(r.text()).contains("this client sent no certificate"));
            c.expectAck(c.option(OPT_GO, NbdTestClient.goData("open")));
            assertThat(c.readSimple(0, 4096)).hasSize(4096);
        }
    }

    @Test
    void aCertificateOfAnotherCaFailsTheHandshake() {
        assertThatThrownBy(() -> {
                    try (NbdTestClient c = NbdTestClient.startTls(nbd.port(), TlsClientContext.of(stranger, true))) {
                        c.option(OPT_LIST, new byte[0]);
                    }
                })
                .isInstanceOf(IOException.class);
    }

    @Test
    void anExportWithAnAllowListIsListedAndOpenedOnlyForTheSubjectsInIt() throws Exception {
        try (NbdTestClient a = tlsClient(clientA);
                NbdTestClient b = tlsClient(clientB)) {
            assertThat(listed(a)).containsExactly("open", "private");
            assertThat(listed(b)).containsExactly("open");

            List<NbdTestClient.OptionReply> refused = b.option(OPT_GO, NbdTestClient.goData("private"));
            assertThat(refused)
                    .singleElement()
                    .satisfies(r -> assertThat(r.type()).isEqualTo(REP_ERR_POLICY))
                    .satisfies(r -> assertThat(r.text()).contains("CN=client-b"));
            assertThat(b.option(OPT_LIST_META_CONTEXT, NbdTestClient.metaContextData("private"))
                            .get(0)
                            .type())
                    .isEqualTo(REP_ERR_POLICY);
            a.expectAck(a.option(OPT_GO, NbdTestClient.goData("private")));
            assertThat(a.readSimple(0, 512)).hasSize(512);
        }
    }

    @Test
    void newConnectionsUseRotatedCertificatesWhileOpenOnesGoOn() throws Exception {
        try (NbdTestClient before = tlsClient(clientA)) {
            before.expectAck(before.option(OPT_GO, NbdTestClient.goData("open")));
            assertThat(serverName(before)).contains("CN=nbd-server-1");

            // cert-manager swaps the files of a mounted Secret
            TestPki.ServerFiles rotated = pki.server(root.resolve("rotated"), "nbd-server-2");
            Files.move(
                    rotated.certificate(), serverDir.resolve("server-cert.pem"), StandardCopyOption.REPLACE_EXISTING);
            Files.move(rotated.privateKey(), serverDir.resolve("server-key.pem"), StandardCopyOption.REPLACE_EXISTING);

            try (NbdTestClient after = tlsClient(clientA)) {
                assertThat(serverName(after)).contains("CN=nbd-server-2");
                after.expectAck(after.option(OPT_GO, NbdTestClient.goData("open")));
                assertThat(after.readSimple(0, 4096)).hasSize(4096);
            }
            assertThat(before.readSimple(0, 4096)).hasSize(4096);
        }
    }

    @Test
    void filesThatDoNotLoadDuringARotationLeaveThePreviousCredentialsInUse() throws Exception {
        Files.writeString(serverDir.resolve("server-cert.pem"), "-----BEGIN CERTIFICATE-----\nhalf");

        try (NbdTestClient c = tlsClient(clientA)) {
            assertThat(serverName(c)).contains("CN=nbd-server-1");
            c.expectAck(c.option(OPT_GO, NbdTestClient.goData("open")));
        }
    }

    @Test
    void aClientThatStallsInTheTlsHandshakeIsDroppedAfterTheHandshakeTimeout() throws Exception {
        nbd.close();
        TestPki.ServerFiles files = pki.server(root.resolve("tls-2"), "nbd-server-1");
        nbd = new NbdFixture(
                root,
                NbdServerSettings.defaults("127.0.0.1", 0).withHandshakeTimeout(java.time.Duration.ofMillis(300)),
                TlsCredentials.of(files.certificate(), files.privateKey(), files.caCertificate()));

        try (NbdTestClient c = plainClient()) {
            c.expectAck(c.option(OPT_STARTTLS, new byte[0]));
            // no ClientHello follows
            assertThat(c.closedByServer()).isTrue();
        }
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> nbd.server.connectionCount() == 0);
    }

    @Test
    void stoppingTheServerDisconnectsTlsClientsAndEndsTheirThreads() throws Exception {
        NbdTestClient c = tlsClient(clientA);
        c.expectAck(c.option(OPT_GO, NbdTestClient.goData("open")));
        assertThat(nbd.server.connectionCount()).isEqualTo(1);

        nbd.server.close();

        assertThat(c.closedByServer()).isTrue();
        assertThat(nbd.server.connectionCount()).isZero();
        // the pool has terminated; its last worker may still be on its way out
        await().atMost(java.time.Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet())
                        .noneMatch(t -> t.getName().startsWith(nbd.server.threadPrefix()) && t.isAlive()));
        assertThat(nbd.server.buffers().outstanding()).isZero();
        c.close();
    }

    private static List<String> listed(NbdTestClient c) throws IOException {
        return c.option(OPT_LIST, new byte[0]).stream()
                .filter(r -> r.type() == REP_SERVER)
                .map(r -> new String(
                        r.data(), 4, java.nio.ByteBuffer.wrap(r.data()).getInt()))
                .toList();
    }

    private static String serverName(NbdTestClient c) throws IOException {
        SSLSocket s = (SSLSocket) c.socket;
        return ((X509Certificate) s.getSession().getPeerCertificates()[0])
                .getSubjectX500Principal()
                .getName();
    }
}
