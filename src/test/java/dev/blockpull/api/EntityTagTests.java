package dev.blockpull.api;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.BlockpullHttpTest;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * {@code ETag}, {@code If-None-Match} and {@code If-Match} on nodes and exports, as on jobs
 * (StreamJobApiTests): a strong tag on every answer that carries one of them, 304 for a GET with
 * the current tag, a new tag once the resource changed, 412 for a DELETE with a stale one. Each
 * test uses its own names.
 */
@BlockpullHttpTest
class EntityTagTests {

    @Autowired
    RestTestClient client;

    Reply post(String uri, Object body) {
        return Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange());
    }

    Reply get(String uri) {
        return Reply.of(client.get().uri(uri).exchange());
    }

    Reply getIfNoneMatch(String uri, String etag) {
        return Reply.of(client.get().uri(uri).header("If-None-Match", etag).exchange());
    }

    Reply deleteIfMatch(String uri, String etag) {
        return Reply.of(client.delete().uri(uri).header("If-Match", etag).exchange());
    }

    /** A 1 MiB qcow2 image at {@code name}, opened as node {@code node}; the answer to the open. */
    Reply openNode(String node, String name) {
        assertThat(post("/images", Map.of("filename", name, "format", "qcow2", "size", 1048576))
                        .status())
                .isEqualTo(201);
        Reply open = post("/nodes", Map.of("nodeName", node, "driver", "qcow2", "file", name));
        assertThat(open.status()).as("%s", open).isEqualTo(201);
        return open;
    }

    static void assertNotModified(Reply r, String etag) {
        assertThat(r.status()).as("%s", r).isEqualTo(304);
        assertThat(r.raw()).isEmpty();
        assertThat(r.headers().getETag()).isEqualTo(etag);
    }

    @Test
    void aNodeCarriesTheSameStrongETagWhenOpenedAndWhenRead() {
        Reply open = openNode("n1", "n1/a.qcow2");

        Reply read = get("/nodes/n1");

        assertThat(read.headers().getETag())
                .matches("\"[0-9a-f]{24}\"")
                .isEqualTo(open.headers().getETag());
    }

    @Test
    void aNodeReadWithItsCurrentETagIs304WithoutABody() {
        String etag = openNode("n2", "n2/a.qcow2").headers().getETag();

        assertNotModified(getIfNoneMatch("/nodes/n2", etag), etag);
    }

    @Test
    void aNodeThatChangedIsSentAgainWithANewETag() {
        String before = openNode("n3", "n3/a.qcow2").headers().getETag();
        post("/nodes/n3/snapshot", Map.of("snapshotFile", "n3/s.qcow2", "snapshotNodeName", "n3s"));

        Reply after = getIfNoneMatch("/nodes/n3", before);

        assertThat(after.status()).as("%s", after).isEqualTo(200);
        assertThat(after.body().get("readOnly").asBoolean())
                .as("the snapshot reopened it read-only")
                .isTrue();
        assertThat(after.headers().getETag()).isNotEqualTo(before);
    }

    @Test
    void aSnapshotAnswersWithTheOverlaysETag() {
        openNode("n4", "n4/a.qcow2");

        Reply snapshot = post("/nodes/n4/snapshot", Map.of("snapshotFile", "n4/s.qcow2", "snapshotNodeName", "n4s"));

        assertThat(snapshot.headers().getETag())
                .isNotBlank()
                .isEqualTo(get("/nodes/n4s").headers().getETag());
    }

    @Test
    void aNodeDeleteWithAStaleIfMatchIs412AndKeepsTheNode() {
        String before = openNode("n5", "n5/a.qcow2").headers().getETag();
        post("/nodes/n5/snapshot", Map.of("snapshotFile", "n5/s.qcow2", "snapshotNodeName", "n5s"));

        Reply stale = deleteIfMatch("/nodes/n5", before);

        assertProblem(stale, 412, "precondition-failed");
        assertThat(stale.text("detail")).startsWith("Node 'n5' has changed: its ETag is ");
        assertThat(get("/nodes/n5").status()).isEqualTo(200);
    }

    @Test
    void aNodeDeleteWithTheCurrentETagInIfMatchCloses() {
        String etag = openNode("n6", "n6/a.qcow2").headers().getETag();

        Reply deleted = deleteIfMatch("/nodes/n6", etag);

        assertThat(deleted.status()).as("%s", deleted).isEqualTo(204);
        assertThat(get("/nodes/n6").status()).isEqualTo(404);
    }

    @Test
    void anExportDeleteHonoursIfMatch() {
        openNode("e3", "e3/a.qcow2");
        String etag = post("/exports", Map.of("id", "e3x", "nodeName", "e3"))
                .headers()
                .getETag();

        assertProblem(deleteIfMatch("/exports/e3x", "\"0\""), 412, "precondition-failed");
        assertThat(deleteIfMatch("/exports/e3x", etag).status()).isEqualTo(204);
    }

    @Test
    void anExportReadWithItsCurrentETagIs304WithoutABody() {
        openNode("e1", "e1/a.qcow2");
        Reply created = post("/exports", Map.of("id", "e1x", "nodeName", "e1"));
        String etag = created.headers().getETag();

        assertThat(etag).isNotBlank().isEqualTo(get("/exports/e1x").headers().getETag());
        assertNotModified(getIfNoneMatch("/exports/e1x", etag), etag);
    }

    @Test
    void anExportMadeAgainDifferentlyIsSentWithANewETag() {
        openNode("e2", "e2/a.qcow2");
        String readOnly = post("/exports", Map.of("id", "e2x", "nodeName", "e2"))
                .headers()
                .getETag();
        client.delete().uri("/exports/e2x").exchange();
        post("/exports", Map.of("id", "e2x", "nodeName", "e2", "writable", true));

        Reply writable = getIfNoneMatch("/exports/e2x", readOnly);

        assertThat(writable.status()).as("%s", writable).isEqualTo(200);
        assertThat(writable.headers().getETag()).isNotEqualTo(readOnly);
    }
}
