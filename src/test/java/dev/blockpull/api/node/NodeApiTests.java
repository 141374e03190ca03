package dev.blockpull.api.node;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.ChainShape;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.MapEntry;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/**
 * {@code /nodes} over a real port, with chains made by qemu-img/qemu-io and qemu-img map as the
 * judge. Each test works in its own subdirectory and with its own node names.
 */
@BlockpullHttpTest
class NodeApiTests {

    @ServiceDataRoot
    static Path dataRoot;

    @Autowired
    RestTestClient client;

    QemuTools qemu;

    @BeforeEach
    void oracles() {
        qemu = QemuTools.require();
    }

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

    /** GET of one node by name; a generated '#...' name is encoded as %23 by the template. */
    Reply node(String nodeName) {
        return Reply.of(client.get().uri("/nodes/{n}", nodeName).exchange());
    }

    Reply delete(String nodeName) {
        return Reply.of(client.delete().uri("/nodes/{n}", nodeName).exchange());
    }

    Chain chain(String sub) throws IOException {
        return Chains.baseMidTop(qemu, Files.createDirectories(dataRoot.resolve(sub)));
    }

    List<String> names(Reply list) {
        List<String> out = new ArrayList<>();
        list.body().values().forEach(n -> out.add(n.get("nodeName").asString()));
        return out;
    }

    @Test
    void blkdebugIsRefusedWithHowToTurnItOnWhileFaultInjectionIsOff() throws IOException {
        chain("nodebug");

        Reply r = post(
                "/nodes",
                Map.of(
                        "nodeName",
                        "dbgOff",
                        "driver",
                        "blkdebug",
                        "image",
                        Map.of("driver", "qcow2", "file", "nodebug/top.qcow2")));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("blockpull.debug.fault-injection=true");
        assertThat(node("dbgOff").status()).isEqualTo(404);
    }

    @Test
    void openingAChainIs201WithTheTopAndGeneratedNamesBelow() throws IOException {
        chain("open");

        Reply r = post("/nodes", Map.of("nodeName", "openTop", "driver", "qcow2", "file", "open/top.qcow2"));

        assertThat(r.status()).as("%s", r).isEqualTo(201);
        assertThat(r.headers().getFirst(HttpHeaders.LOCATION)).endsWith("/nodes/openTop");
        assertThat(r.text("driver")).isEqualTo("qcow2");
        assertThat(r.text("filename")).isEqualTo("open/top.qcow2");
        assertThat(r.body().get("readOnly").asBoolean()).isFalse();
        assertThat(r.text("backing")).startsWith("#block");
        assertThat(r.body().get("usedBy")).isEmpty();
        Reply chain = get("/nodes/openTop/chain");
        assertThat(names(chain)).hasSize(3).first().isEqualTo("openTop");
        assertThat(chain.body().get(1).get("filename").asString()).isEqualTo("open/mid.qcow2");
        assertThat(chain.body().get(1).get("readOnly").asBoolean()).isTrue();
        assertThat(chain.body().get(2).get("backing").isNull()).isTrue();
        String generated = names(chain).get(1);
        assertThat(node(generated).status()).isEqualTo(200);
        assertThat(names(get("/nodes?pageSize=1000"))).contains("openTop", generated);
    }

    @Test
    void theMapEqualsQemuImgMapIncludingAShortMiddleLayer() throws IOException {
        Chain chain = Chains.baseMidTop(
                qemu,
                Files.createDirectories(dataRoot.resolve("map")),
                ChainShape.standard().withShortMid(Chains.MIB));
        post("/nodes", Map.of("nodeName", "mapTop", "driver", "qcow2", "file", "map/top.qcow2"));

        Reply r = get("/nodes/mapTop/map");

        assertThat(r.status()).isEqualTo(200);
        List<MapEntry> got = new ArrayList<>();
        for (JsonNode e : r.body().values()) {
            got.add(new MapEntry(
                    e.get("start").asLong(),
                    e.get("length").asLong(),
                    e.get("depth").asInt(),
                    e.get("present").asBoolean(),
                    e.get("zero").asBoolean(),
                    e.get("data").asBoolean(),
                    e.has("offset") ? e.get("offset").asLong() : null));
        }
        assertThat(rows(got)).isEqualTo(rows(qemu.map(chain.top())));
        Reply window = get("/nodes/mapTop/map?offset=65536&length=65536");
        assertThat(window.body()).hasSize(1);
        assertThat(window.body().get(0).get("start").asLong()).isEqualTo(65536);
    }

    /** (start, length, depth, zero, data), merged like nodes.py merges them. */
    static List<List<Object>> rows(List<MapEntry> map) {
        List<List<Object>> out = new ArrayList<>();
        for (MapEntry e : map) {
            List<Object> key = List.of(e.depth(), e.zero(), e.data());
            if (!out.isEmpty()) {
                List<Object> p = out.get(out.size() - 1);
                if (p.get(2).equals(key) && (long) p.get(0) + (long) p.get(1) == e.start()) {
                    out.set(out.size() - 1, List.of(p.get(0), (long) p.get(1) + e.length(), key));
                    continue;
                }
            }
            out.add(List.of(e.start(), e.length(), key));
        }
        return out;
    }

    @Test
    void backingNullNestedDefinitionsAndReferencesOpenAsAsked() throws IOException {
        chain("forms");
        Map<String, Object> baseDef = new HashMap<>();
        baseDef.put("nodeName", "formsBase");
        baseDef.put("driver", "qcow2");
        baseDef.put("file", Map.of("driver", "file", "filename", "forms/base.qcow2", "readOnly", true));
        baseDef.put("backing", null);
        Map<String, Object> mid = new LinkedHashMap<>(Map.of(
                "nodeName",
                "formsMid",
                "driver",
                "qcow2",
                "file",
                "forms/mid.qcow2",
                "backing",
                baseDef,
                "readOnly",
                true));

        Reply opened = post("/nodes", mid);
        Reply top = post(
                "/nodes",
                Map.of("nodeName", "formsTop", "driver", "qcow2", "file", "forms/top.qcow2", "backing", "formsMid"));

        assertThat(opened.status()).as("%s", opened).isEqualTo(201);
        assertThat(opened.text("backing")).isEqualTo("formsBase");
        assertThat(opened.body().get("readOnly").asBoolean()).isTrue();
        assertThat(top.status()).as("%s", top).isEqualTo(201);
        assertThat(names(get("/nodes/formsTop/chain"))).containsExactly("formsTop", "formsMid", "formsBase");
        assertThat(get("/nodes/formsBase").body().get("backing").isNull()).isTrue();
    }

    @Test
    void everyConfinementAttackIs400AndOpensNothing() throws IOException {
        Path dir = Files.createDirectories(dataRoot.resolve("attack"));
        Files.createSymbolicLink(dir.resolve("etc-link"), Path.of("/etc"));
        qemu.create(dir.resolve("trap.qcow2"), "qcow2", "1M", "-u", "-b", "/etc/passwd", "-F", "raw");
        qemu.create(dir.resolve("dotdot.qcow2"), "qcow2", "1M", "-u", "-b", "../../../../etc/passwd", "-F", "raw");
        qemu.create(
                dir.resolve("json.qcow2"),
                "qcow2",
                "1M",
                "-u",
                "-b",
                "json:{\"file.filename\":\"/etc/passwd\"}",
                "-F",
                "raw");
        qemu.create(dir.resolve("nbd.qcow2"), "qcow2", "1M", "-u", "-b", "nbd://127.0.0.1:10809/x", "-F", "raw");
        int before = get("/nodes?pageSize=1000").body().size();
        List<Object> files = List.of(
                "/etc/passwd",
                "../../../etc/passwd",
                "attack/etc-link/hostname",
                "nbd:127.0.0.1:10809",
                "json:{\"file\":\"/etc/passwd\"}",
                "attack/trap.qcow2",
                "attack/dotdot.qcow2",
                "attack/json.qcow2",
                "attack/nbd.qcow2",
                Map.of("driver", "file", "filename", "/etc/passwd"));

        for (Object file : files) {
            String driver = file.toString().endsWith(".qcow2") ? "qcow2" : "raw";
            Reply r = post("/nodes", Map.of("nodeName", "evil", "driver", driver, "file", file));
            assertProblem(r, 400);
        }

        assertThat(get("/nodes?pageSize=1000").body().size()).isEqualTo(before);
    }

    @Test
    void nameRulesAndUnknownFieldsAreRefusedWithProblems() throws IOException {
        chain("names");
        post("/nodes", Map.of("nodeName", "namesTop", "driver", "qcow2", "file", "names/top.qcow2"));

        Reply duplicate = post("/nodes", Map.of("nodeName", "namesTop", "driver", "qcow2", "file", "names/top.qcow2"));
        Reply invalid = post("/nodes", Map.of("nodeName", "1bad", "driver", "qcow2", "file", "names/mid.qcow2"));
        Reply unknownNested = post(
                "/nodes",
                Map.of(
                        "nodeName",
                        "x1",
                        "driver",
                        "qcow2",
                        "file",
                        "names/mid.qcow2",
                        "backing",
                        Map.of("nodeNme", "x2", "driver", "qcow2", "file", "names/base.qcow2")));
        Reply badDriver = post("/nodes", Map.of("nodeName", "x3", "driver", "vmdk", "file", "names/mid.qcow2"));

        assertProblem(duplicate, 409);
        assertThat(duplicate.text("detail")).isEqualTo("Duplicate nodes with node-name='namesTop'");
        assertProblem(invalid, 400);
        assertThat(invalid.text("detail")).isEqualTo("Invalid node-name: '1bad'");
        assertProblem(unknownNested, 400);
        assertThat(unknownNested.text("detail")).contains("nodeNme");
        assertProblem(badDriver, 400);
        assertProblem(get("/nodes/nope"), 404);
        assertThat(get("/nodes/nope").text("errorClass")).isEqualTo("GenericError");
    }

    @Test
    void deleteIs409WhileAParentUsesTheNodeAnd204ForTheTop() throws IOException {
        chain("del");
        post("/nodes", Map.of("nodeName", "delTop", "driver", "qcow2", "file", "del/top.qcow2"));
        String mid = get("/nodes/delTop").text("backing");

        assertProblem(delete(mid), 409);
        assertThat(delete("delTop").status()).isEqualTo(204);
        assertProblem(get("/nodes/delTop"), 404);
        assertProblem(node(mid), 404);
        // the files are free again: they can be opened read-write
        assertThat(post("/nodes", Map.of("nodeName", "delMid", "driver", "qcow2", "file", "del/mid.qcow2"))
                        .status())
                .isEqualTo(201);
    }

    @Test
    void aSnapshotCreatesAnOverlayThatBecomesTheTop() throws IOException {
        Chain chain = chain("snap");
        post("/nodes", Map.of("nodeName", "snapTop", "driver", "qcow2", "file", "snap/top.qcow2"));

        Reply r = post("/nodes/snapTop/snapshot", Map.of("snapshotFile", "snap/s1.qcow2", "snapshotNodeName", "snap1"));

        assertThat(r.status()).as("%s", r).isEqualTo(201);
        assertThat(r.headers().getFirst(HttpHeaders.LOCATION)).endsWith("/nodes/snap1");
        assertThat(r.text("backing")).isEqualTo("snapTop");
        assertThat(get("/nodes/snapTop").body().get("readOnly").asBoolean()).isTrue();
        JsonNode info = qemu.withForceShare().info(dataRoot.resolve("snap/s1.qcow2"));
        assertThat(info.get("backing-filename").asString()).isEqualTo("top.qcow2");
        assertThat(info.get("backing-filename-format").asString()).isEqualTo("qcow2");
        assertThat(info.get("virtual-size").asLong())
                .isEqualTo(chain.layer("top.qcow2").size());
        assertProblem(post("/nodes/snapTop/snapshot", Map.of("snapshotFile", "snap/s1.qcow2")), 409);
        assertProblem(post("/nodes/snapTop/snapshot", Map.of("snapshotFile", "../s2.qcow2")), 400);
        assertProblem(post("/nodes/nope/snapshot", Map.of("snapshotFile", "snap/s3.qcow2")), 404);
    }

    @Test
    void theOpenApiDocumentListsTheNodeEndpoints() {
        Reply r = get("/v3/api-docs");

        assertThat(r.status()).isEqualTo(200);
        JsonNode paths = r.body().get("paths");
        assertThat(paths.has("/nodes")).isTrue();
        assertThat(paths.has("/nodes/{nodeName}")).isTrue();
        assertThat(paths.has("/nodes/{nodeName}/chain")).isTrue();
        assertThat(paths.has("/nodes/{nodeName}/map")).isTrue();
        assertThat(paths.has("/nodes/{nodeName}/snapshot")).isTrue();
    }
}
