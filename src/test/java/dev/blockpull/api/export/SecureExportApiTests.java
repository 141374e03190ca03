package dev.blockpull.api.export;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.ProcessResult;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import dev.blockpull.testsupport.TestPki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * The service with NBD over TLS from {@code blockpull.nbd.tls.*} on every interface: exports
 * with an allow-list of client certificate subjects, made over HTTP and opened by nbdinfo.
 */
@BlockpullHttpTest
class SecureExportApiTests {

    static final int NBD_PORT = ExportApi.freePort();

    @ServiceDataRoot
    static Path dataRoot;

    @TempDir
    static Path pkiDir;

    static Path clientA;
    static Path clientB;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestPki pki = TestPki.create(pkiDir.resolve("ca"), "Blockpull test CA");
        TestPki.ServerFiles server = pki.server(pkiDir.resolve("server"), "localhost");
        clientA = pki.client(pkiDir.resolve("client-a"), "/CN=client-a/O=Blockpull tests");
        clientB = pki.client(pkiDir.resolve("client-b"), "/CN=client-b/O=Blockpull tests");
        registry.add("blockpull.nbd.port", () -> NBD_PORT);
        registry.add("blockpull.nbd.bind-address", () -> "0.0.0.0");
        registry.add("blockpull.nbd.tls.certificate", server::certificate);
        registry.add("blockpull.nbd.tls.private-key", server::privateKey);
        registry.add("blockpull.nbd.tls.ca", server::caCertificate);
    }

    @Autowired
    RestTestClient client;

    QemuTools qemu;
    ExportApi api;

    @BeforeEach
    void setUp() throws IOException {
        qemu = QemuTools.require();
        QemuTools.requireTool("nbdinfo");
        api = new ExportApi(client, NBD_PORT);
    }

    private void node(String name) throws IOException {
        Chains.baseMidTop(qemu, Files.createDirectories(dataRoot.resolve(name)));
        assertThat(api.post("/nodes", Map.of("nodeName", name, "driver", "qcow2", "file", name + "/top.qcow2"))
                        .status())
                .isEqualTo(201);
    }

    @Test
    void anExportForOneClientSubjectIsOpenedByItAndRefusedToOthers() throws IOException {
        node("s1");

        Reply created = api.post(
                "/exports",
                Map.of(
                        "id",
                        "s1x",
                        "nodeName",
                        "s1",
                        "allowedClientSubjects",
                        List.of("O=Blockpull tests, cn=client-a")));

        assertThat(created.status()).as("%s", created).isEqualTo(201);
        assertThat(created.body().get("allowedClientSubjects").get(0).asString())
                .isEqualTo("O=Blockpull tests,CN=client-a");
        ProcessResult admitted = nbdinfo("s1x", clientA);
        ProcessResult refused = nbdinfo("s1x", clientB);
        assertThat(admitted.exitCode()).as(admitted.describe()).isZero();
        assertThat(refused.exitCode()).as(refused.describe()).isNotZero();
    }

    @Test
    void aSubjectThatIsNotADistinguishedNameIsABadRequest() throws IOException {
        node("s2");

        Reply refused = api.post(
                "/exports", Map.of("id", "s2x", "nodeName", "s2", "allowedClientSubjects", List.of("client-a")));

        assertProblem(refused, 400);
        assertThat(refused.body().get("detail").asString()).contains("'client-a' is not a distinguished name");
    }

    private ProcessResult nbdinfo(String export, Path certificates) {
        return QemuTools.run(
                List.of("nbdinfo", "nbds://127.0.0.1:" + NBD_PORT + "/" + export + "?tls-certificates=" + certificates),
                Duration.ofSeconds(60));
    }
}
