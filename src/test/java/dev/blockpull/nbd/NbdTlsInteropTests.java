package dev.blockpull.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.ProcessResult;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.TestPki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NBD over TLS with the real clients: libnbd's nbdinfo and nbdcopy ({@code nbds://} URIs with
 * {@code tls-certificates=}), qemu-img and qemu-io ({@code --object tls-creds-x509}), against a
 * server that requires client certificates of a test CA made by openssl at test time.
 */
class NbdTlsInteropTests {

    /** RFC 4514 form of the subject {@code /CN=client-a/O=Blockpull tests}. */
    static final String ALLOWED = "O=Blockpull tests,CN=client-a";

    static final Duration TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    static Path pkiDir;

    static TestPki pki;
    static TestPki.ServerFiles serverFiles;
    static Path clientA;
    static Path clientB;
    /** The CA certificate only: TLS without a client certificate. */
    static Path anonymous;

    @TempDir
    Path root;

    QemuTools qemu;
    NbdFixture nbd;
    Chain chain;

    @BeforeAll
    static void certificates() throws IOException {
        pki = TestPki.create(pkiDir.resolve("ca"), "Blockpull test CA");
        serverFiles = pki.server(pkiDir.resolve("server"), "localhost");
        clientA = pki.client(pkiDir.resolve("client-a"), "/CN=client-a/O=Blockpull tests");
        clientB = pki.client(pkiDir.resolve("client-b"), "/CN=client-b/O=Blockpull tests");
        anonymous = Files.createDirectories(pkiDir.resolve("anonymous"));
        Files.copy(pki.caCertificate(), anonymous.resolve("ca-cert.pem"));
    }

    @BeforeEach
    void setUp() throws IOException {
        qemu = QemuTools.require();
        QemuTools.requireTool("nbdinfo");
        QemuTools.requireTool("nbdcopy");
        chain = Chains.baseMidTop(qemu, Files.createDirectories(root.resolve("vm")));
        nbd = new NbdFixture(
                root,
                NbdServerSettings.defaults("127.0.0.1", 0),
                new TlsCredentials(new TlsCredentials.PemFiles(
                        serverFiles.certificate(), serverFiles.privateKey(), serverFiles.caCertificate())));
        nbd.open("top", "vm/top.qcow2");
    }

    @AfterEach
    void tearDown() {
        if (nbd != null) {
            nbd.close();
        }
    }

    // ------------------------------------------------------------------ libnbd

    @Test
    void nbdinfoShowsTheExportOverTls() {
        nbd.export("vm1", "top", false);

        ProcessResult r = run("nbdinfo", "--json", nbds("vm1", clientA));

        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout())
                .contains("\"export-size\": " + chain.layer("top.qcow2").size())
                .contains("\"is_read_only\": true");
    }

    @Test
    void nbdinfoListsOnlyTheExportsTheClientCertificateMayOpen() {
        nbd.export("vm1", "top", false);
        nbd.exports.add("private", "top", false, List.of(ALLOWED));

        ProcessResult a = run("nbdinfo", "--list", "--json", nbds("", clientA));
        ProcessResult b = run("nbdinfo", "--list", "--json", nbds("", clientB));

        assertThat(a.exitCode()).as(a.describe()).isZero();
        assertThat(a.stdout()).contains("\"export-name\": \"vm1\"", "\"export-name\": \"private\"");
        assertThat(b.exitCode()).as(b.describe()).isZero();
        assertThat(b.stdout()).contains("\"export-name\": \"vm1\"").doesNotContain("private");
    }

    @Test
    void nbdinfoWithoutTlsIsRefusedBecauseTheServerRequiresTls() {
        nbd.export("vm1", "top", false);

        ProcessResult r = run("nbdinfo", "nbd://127.0.0.1:" + nbd.port() + "/vm1");

        assertThat(r.exitCode()).as(r.describe()).isNotZero();
        assertThat(r.output()).as(r.describe()).containsIgnoringCase("TLS");
    }

    @Test
    void nbdinfoWithoutAClientCertificateIsRefused() {
        nbd.export("vm1", "top", false);

        ProcessResult r = run("nbdinfo", nbds("vm1", anonymous));

        assertThat(r.exitCode()).as(r.describe()).isNotZero();
    }

    @Test
    void nbdinfoWithACertificateOutsideTheAllowListIsRefusedByPolicy() {
        nbd.exports.add("private", "top", false, List.of(ALLOWED));

        ProcessResult refused = run("nbdinfo", nbds("private", clientB));
        ProcessResult admitted = run("nbdinfo", nbds("private", clientA));

        assertThat(refused.exitCode()).as(refused.describe()).isNotZero();
        // libnbd does not print the server's reason; TLS itself went through
        assertThat(refused.output()).as(refused.describe()).contains("with TLS", "error to opt_go");
        assertThat(admitted.exitCode()).as(admitted.describe()).isZero();
    }

    @Test
    void nbdcopyWritesOverTlsWhatQemuImgReadsBackOverTls() throws IOException {
        nbd.export("rw", "top", true);
        Path source = root.resolve("source.raw");
        qemu.qemuImgOk(
                "create",
                "-f",
                "raw",
                source.toString(),
                String.valueOf(chain.layer("top.qcow2").size()));
        qemu.io(source, "raw", "write -P 0xa5 0 1M", "write -P 0x3c 3M 512k");

        ProcessResult copy = run("nbdcopy", source.toString(), nbds("rw", clientA));

        assertThat(copy.exitCode()).as(copy.describe()).isZero();
        ProcessResult compare = qemuTls(
                clientB,
                "qemu-img",
                "compare",
                "--image-opts",
                "driver=raw,file.driver=file,file.filename=" + source,
                imageOpts("rw"));
        assertThat(compare.exitCode()).as(compare.describe()).isZero();
    }

    // ------------------------------------------------------------------ qemu

    @Test
    void qemuImgInfoOverTlsShowsTheSize() {
        nbd.export("vm1", "top", false);

        ProcessResult r = qemuTls(clientA, "qemu-img", "info", "--output=json", "--image-opts", imageOpts("vm1"));

        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout())
                .contains("\"virtual-size\": " + chain.layer("top.qcow2").size());
    }

    @Test
    void qemuImgSpeaksTls12WhenItOffersNothingNewer() {
        nbd.export("vm1", "top", false);

        ProcessResult r = QemuTools.run(
                List.of(
                        "qemu-img",
                        "info",
                        "--object",
                        "tls-creds-x509,id=tls0,dir=" + clientA + ",endpoint=client,priority=NORMAL:-VERS-TLS1.3",
                        "--image-opts",
                        imageOpts("vm1")),
                TIMEOUT);

        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout()).contains("(" + chain.layer("top.qcow2").size() + " bytes)");
    }

    @Test
    void qemuImgConvertOverTlsCopiesTheChainsContent() {
        nbd.export("vm1", "top", false);
        Path copy = root.resolve("copy.qcow2");

        ProcessResult r = qemuTls(
                clientA, "qemu-img", "convert", "-O", "qcow2", "--image-opts", imageOpts("vm1"), copy.toString());

        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(qemu.compare(copy, chain.top()).exitCode()).isZero();
    }

    @Test
    void qemuIoWritesOverTlsWhatNbdcopyReadsBackOverTls() throws IOException {
        nbd.export("rw", "top", true);
        Path model = root.resolve("model.raw");
        qemu.convertToRaw(chain.top(), model);
        String[] commands = {"write -P 0x77 2M 64k", "write -z 64k 64k", "discard 1M 128k", "flush"};

        ProcessResult io = qemuTls(
                clientA,
                "qemu-io",
                "--image-opts",
                imageOpts("rw"),
                "-c",
                commands[0],
                "-c",
                commands[1],
                "-c",
                commands[2],
                "-c",
                commands[3]);
        qemu.io(model, "raw", commands);

        assertThat(io.exitCode()).as(io.describe()).isZero();
        assertThat(io.output().toLowerCase())
                .as(io.describe())
                .doesNotContain("fail")
                .doesNotContain("error");
        Path back = root.resolve("back.raw");
        ProcessResult read = run("nbdcopy", nbds("rw", clientB), back.toString());
        assertThat(read.exitCode()).as(read.describe()).isZero();
        assertThat(qemu.compare(back, model, "-f", "raw", "-F", "raw").exitCode())
                .isZero();
    }

    @Test
    void qemuImgWithoutTlsCredentialsIsToldTlsIsRequired() {
        nbd.export("vm1", "top", false);

        ProcessResult r = qemu.qemuImg("info", "nbd://127.0.0.1:" + nbd.port() + "/vm1");

        assertThat(r.exitCode()).as(r.describe()).isNotZero();
        assertThat(r.output()).as(r.describe()).contains("not permitted before TLS");
    }

    @Test
    void qemuIoWithACertificateOutsideTheAllowListIsDenied() {
        nbd.exports.add("private", "top", true, List.of(ALLOWED));

        ProcessResult refused = qemuTls(clientB, "qemu-io", "--image-opts", imageOpts("private"), "-c", "read 0 4k");
        ProcessResult admitted = qemuTls(clientA, "qemu-io", "--image-opts", imageOpts("private"), "-c", "read 0 4k");

        assertThat(refused.exitCode()).as(refused.describe()).isNotZero();
        assertThat(refused.output()).as(refused.describe()).contains("Denied by server", "CN=client-b");
        assertThat(admitted.exitCode()).as(admitted.describe()).isZero();
    }

    // ------------------------------------------------------------------ helpers

    private String nbds(String export, Path certificates) {
        return "nbds://127.0.0.1:" + nbd.port() + "/" + export + "?tls-certificates=" + certificates;
    }

    private String imageOpts(String export) {
        return "driver=nbd,server.type=inet,server.host=127.0.0.1,server.port=" + nbd.port() + ",export=" + export
                + ",tls-creds=tls0";
    }

    /**
     * A qemu tool with the client credentials of {@code dir} as the object {@code tls0}
     * (qemu-img takes {@code --object} after its subcommand, qemu-io before the image).
     */
    private static ProcessResult qemuTls(Path dir, String tool, String... args) {
        List<String> command = new ArrayList<>(List.of(tool));
        int at = tool.equals("qemu-img") ? 1 : 0;
        command.addAll(List.of(args).subList(0, at));
        command.addAll(List.of("--object", "tls-creds-x509,id=tls0,dir=" + dir + ",endpoint=client"));
        command.addAll(List.of(args).subList(at, args.length));
        return QemuTools.run(command, TIMEOUT);
    }

    private static ProcessResult run(String... command) {
        return QemuTools.run(List.of(command), TIMEOUT);
    }
}
