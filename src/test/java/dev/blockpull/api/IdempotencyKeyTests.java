package dev.blockpull.api;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/**
 * {@code Idempotency-Key} on every POST that creates something: images, nodes, snapshots, exports
 * (stream starts and job verbs: StreamJobApiTests). A repeat that would otherwise be refused (the
 * file exists, the name is taken) replays the first answer instead. Each test uses its own names
 * and keys.
 */
@BlockpullHttpTest(shared = false)
class IdempotencyKeyTests {

    static final String KEY = "Idempotency-Key";

    @ServiceDataRoot
    static Path dataRoot;

    @Autowired
    RestTestClient client;

    Reply post(String uri, Object body, String key) {
        return Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .header(KEY, key)
                .body(body)
                .exchange());
    }

    Reply post(String uri, Object body) {
        return Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange());
    }

    /** A 1 MiB qcow2 image at {@code name}, opened as node {@code node}. */
    void openNode(String node, String name) {
        assertThat(post("/images", image(name)).status()).isEqualTo(201);
        assertThat(post("/nodes", Map.of("nodeName", node, "driver", "qcow2", "file", name))
                        .status())
                .isEqualTo(201);
    }

    static Map<String, Object> image(String name) {
        return Map.of("filename", name, "format", "qcow2", "size", 1048576);
    }

    static void assertReplayOf(Reply again, Reply first) {
        assertThat(first.status()).as("%s", first).isEqualTo(201);
        assertThat(again.status()).as("%s", again).isEqualTo(201);
        assertThat(again.headers().getFirst("Idempotent-Replayed")).isEqualTo("true");
        assertThat(again.headers().getLocation()).isEqualTo(first.headers().getLocation());
        assertThat(again.body()).isEqualTo(first.body());
    }

    @Test
    void aRepeatedImageCreationReplaysTheFirstAnswerInsteadOf409() {
        Reply first = post("/images", image("i1/a.qcow2"), "k-i1");
        Reply again = post("/images", image("i1/a.qcow2"), "k-i1");

        assertReplayOf(again, first);
        assertProblem(post("/images", image("i1/a.qcow2")), 409);
    }

    @Test
    void aRepeatedNodeOpenReplaysTheFirstAnswerAndOpensOneNode() {
        post("/images", image("n1/a.qcow2"));
        Map<String, Object> open = Map.of("nodeName", "n1", "driver", "qcow2", "file", "n1/a.qcow2");

        Reply first = post("/nodes", open, "k-n1");
        Reply again = post("/nodes", open, "k-n1");

        assertReplayOf(again, first);
        assertThat(Reply.of(client.get().uri("/nodes?pageSize=1000").exchange()).body())
                .filteredOn(n -> n.get("driver").asString().equals("qcow2")
                        && n.get("filename").asString().equals("n1/a.qcow2"))
                .hasSize(1);
    }

    @Test
    void aRepeatedSnapshotReplaysTheFirstAnswerAndMakesOneOverlay() throws Exception {
        openNode("s1", "s1/a.qcow2");
        Map<String, Object> snapshot = Map.of("snapshotFile", "s1/snap.qcow2", "snapshotNodeName", "s1snap");

        Reply first = post("/nodes/s1/snapshot", snapshot, "k-s1");
        Reply again = post("/nodes/s1/snapshot", snapshot, "k-s1");

        assertReplayOf(again, first);
        try (var files = Files.list(dataRoot.resolve("s1"))) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder("a.qcow2", "snap.qcow2");
        }
    }

    @Test
    void aRepeatedExportCreationReplaysTheFirstAnswerInsteadOf409() {
        openNode("e1", "e1/a.qcow2");
        Map<String, Object> export = Map.of("id", "e1x", "nodeName", "e1");

        Reply first = post("/exports", export, "k-e1");
        Reply again = post("/exports", export, "k-e1");

        assertReplayOf(again, first);
        assertProblem(post("/exports", export), 409);
    }

    @Test
    void aKeyReusedWithAnotherBodyIs422AndCreatesNothing() {
        post("/images", image("b1/a.qcow2"), "k-b1");

        Reply other = post("/images", image("b1/b.qcow2"), "k-b1");

        assertProblem(other, 422);
        assertThat(other.text("detail")).contains("k-b1").contains("different request");
        assertThat(dataRoot.resolve("b1/b.qcow2")).doesNotExist();
    }

    @Test
    void aKeyReusedOnAnotherEndpointIs422() {
        post("/images", image("x1/a.qcow2"), "k-x1");

        Reply open = post("/nodes", Map.of("nodeName", "x1", "driver", "qcow2", "file", "x1/a.qcow2"), "k-x1");

        assertProblem(open, 422);
    }

    @Test
    void aRequestThatFailedIsNotRememberedSoItsRetryRuns() {
        Map<String, Object> open = Map.of("nodeName", "f1", "driver", "qcow2", "file", "f1/a.qcow2");
        assertProblem(post("/nodes", open, "k-f1"), 404);
        post("/images", image("f1/a.qcow2"));

        Reply retry = post("/nodes", open, "k-f1");

        assertThat(retry.status()).as("%s", retry).isEqualTo(201);
        assertThat(retry.headers().getFirst("Idempotent-Replayed")).isNull();
    }

    @Test
    void everyPostThatCreatesSomethingDocumentsTheKeyWith409And422() {
        JsonNode paths =
                Reply.of(client.get().uri("/v3/api-docs").exchange()).body().get("paths");

        for (String path : new String[] {
            "/images",
            "/nodes",
            "/nodes/{nodeName}/snapshot",
            "/nodes/{nodeName}/inject-errors",
            "/exports",
            "/jobs/stream"
        }) {
            JsonNode post = paths.get(path).get("post");
            assertThat(post.get("parameters"))
                    .as(path)
                    .anyMatch(p -> p.get("in").asString().equals("header")
                            && p.get("name").asString().equals(KEY));
            assertThat(post.at("/responses/422/content").has("application/problem+json"))
                    .as(path)
                    .isTrue();
            assertThat(post.at("/responses/409/description").asString())
                    .as(path)
                    .contains("same Idempotency-Key still being answered");
        }
    }
}
