package dev.blockpull.api.export;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/** {@code /exports} over a real HTTP port, with the NBD server on a real loopback port and qemu as the client. */
@BlockpullHttpTest
class ExportApiTests {

    static final int NBD_PORT = ExportApi.freePort();

    @ServiceDataRoot
    static Path dataRoot;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("blockpull.nbd.port", () -> NBD_PORT);
        registry.add("blockpull.nbd.bind-address", () -> "127.0.0.1");
    }

    @Autowired
    RestTestClient client;

    QemuTools qemu;
    ExportApi api;

    @BeforeEach
    void setUp() {
        qemu = QemuTools.require();
        api = new ExportApi(client, NBD_PORT);
    }

    Chain chain(String name) throws IOException {
        Chain chain = Chains.baseMidTop(qemu, Files.createDirectories(dataRoot.resolve(name)));
        Reply r = api.post("/nodes", Map.of("nodeName", name, "driver", "qcow2", "file", name + "/top.qcow2"));
        assertThat(r.status()).as("%s", r).isEqualTo(201);
        return chain;
    }

    @Test
    void createdExportIsServedOverNbdAndListedWithItsClients() throws Exception {
        Chain chain = chain("c1");

        Reply created = api.post("/exports", Map.of("id", "c1x", "nodeName", "c1", "writable", true));

        assertThat(created.status()).as("%s", created).isEqualTo(201);
        assertThat(created.headers().getLocation()).hasToString("/exports/c1x");
        assertThat(created.body().get("nodeName").asString()).isEqualTo("c1");
        assertThat(created.body().get("writable").asBoolean()).isTrue();
        assertThat(created.body().get("size").asLong())
                .isEqualTo(chain.layer("top.qcow2").size());
        assertThat(qemu.qemuImg(
                                "compare",
                                "-f",
                                "raw",
                                "-F",
                                "qcow2",
                                api.uri("c1x"),
                                chain.top().toString())
                        .exitCode())
                .isZero();

        // an interactive qemu-io stays connected while its stdin is open
        Process session = new ProcessBuilder(qemu.qemuIoPath().toString(), "-f", "raw", api.uri("c1x"))
                .redirectErrorStream(true)
                .start();
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> clientsOf("c1x") == 1);
        } finally {
            session.getOutputStream().close();
            session.waitFor(20, TimeUnit.SECONDS);
            session.destroy();
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> clientsOf("c1x") == 0);
        assertThat(api.get("/exports/c1x").body().get("clients").asInt()).isZero();
    }

    @Test
    void deletingAnExportStopsServingAndFreesTheNode() throws Exception {
        chain("c2");
        assertThat(api.post("/exports", Map.of("id", "c2x", "nodeName", "c2")).status())
                .isEqualTo(201);
        assertThat(api.get("/nodes/c2").body().get("usedBy").toString()).contains("c2x");

        assertProblem(api.delete("/nodes/c2"), 409);

        Reply deleted = api.delete("/exports/c2x");
        assertThat(deleted.status()).isEqualTo(204);
        assertThat(qemu.qemuIo("-f", "raw", "-c", "read 0 512", api.uri("c2x")).exitCode())
                .isNotZero();
        assertProblem(api.get("/exports/c2x"), 404);
        assertProblem(api.delete("/exports/c2x"), 404);
        assertThat(api.delete("/nodes/c2").status()).isEqualTo(204);
    }

    @Test
    void readOnlyExportRefusesClientWrites() throws Exception {
        chain("c3");
        assertThat(api.post("/exports", Map.of("id", "c3x", "nodeName", "c3", "writable", false))
                        .status())
                .isEqualTo(201);

        // qemu refuses to open a read-only export read-write; opened read-only, writes fail
        assertThat(qemu.qemuIo("-f", "raw", "-c", "write 0 512", api.uri("c3x")).exitCode())
                .isNotZero();
        assertThat(qemu.qemuIo("-r", "-f", "raw", "-c", "write 0 512", api.uri("c3x"))
                        .output())
                .containsIgnoringCase("read-only");
    }

    @Test
    void badRequestsAreProblems() throws Exception {
        chain("c4");
        assertThat(api.post("/exports", Map.of("id", "c4x", "nodeName", "c4")).status())
                .isEqualTo(201);

        assertProblem(api.post("/exports", Map.of("id", "c4x", "nodeName", "c4")), 409);
        assertProblem(api.post("/exports", Map.of("id", "c4y", "nodeName", "nope")), 404);
        assertProblem(api.post("/exports", Map.of("id", "1bad", "nodeName", "c4")), 400);
        assertProblem(api.post("/exports", Map.of("id", "c4z", "nodeNam", "c4")), 400);
        assertProblem(api.post("/exports", Map.of("nodeName", "c4")), 400);
    }

    @Test
    void anExportIsForEveryClientUnlessItNamesClientSubjects() throws Exception {
        chain("c6");

        Reply created = api.post("/exports", Map.of("id", "c6x", "nodeName", "c6"));

        assertThat(created.body().get("allowedClientSubjects").isArray()).isTrue();
        assertThat(created.body().get("allowedClientSubjects").isEmpty()).isTrue();
    }

    @Test
    void clientSubjectsWithoutClientCertificatesAreRefused() throws Exception {
        chain("c7");

        Reply refused = api.post(
                "/exports", Map.of("id", "c7x", "nodeName", "c7", "allowedClientSubjects", List.of("CN=client-a")));

        assertProblem(refused, 400);
        assertThat(refused.body().get("detail").asString()).contains("blockpull.nbd.tls.ca");
        assertThat(api.get("/exports/c7x").status()).isEqualTo(404);
    }

    @Test
    void listIsSortedById() throws Exception {
        chain("c5");
        api.post("/exports", Map.of("id", "c5b", "nodeName", "c5"));
        api.post("/exports", Map.of("id", "c5a", "nodeName", "c5"));

        Reply list = api.get("/exports");

        assertThat(list.status()).isEqualTo(200);
        assertThat(list.body().valueStream().map(e -> e.get("id").asString()).filter(id -> id.startsWith("c5")))
                .containsExactly("c5a", "c5b");
    }

    @Test
    void openApiDocumentsTheExportOperations() {
        JsonNode doc = api.get("/v3/api-docs").body();

        assertThat(doc.at("/paths/~1exports/post/operationId").asString()).isEqualTo("createExport");
        assertThat(doc.at("/paths/~1exports/get/operationId").asString()).isEqualTo("listExports");
        assertThat(doc.at("/paths/~1exports~1{id}/delete/operationId").asString())
                .isEqualTo("deleteExport");
        assertThat(doc.at("/paths/~1exports/post/responses/409/content").toString())
                .contains("problem+json");
    }

    private int clientsOf(String id) {
        return api.get("/exports/" + id).body().get("clients").asInt();
    }
}
