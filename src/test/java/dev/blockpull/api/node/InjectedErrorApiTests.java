package dev.blockpull.api.node;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * The blkdebug driver of {@code /nodes} and its {@code inject-errors} sub-resource over a real
 * port, with fault injection on: definitions, the node in the chain, rules added and removed
 * while the node is in use, and clear 4xx problems for bad ones.
 */
@BlockpullHttpTest(properties = "blockpull.debug.fault-injection=true")
class InjectedErrorApiTests {

    @ServiceDataRoot
    static Path dataRoot;

    static final Map<String, Object> EIO_AT_0 = Map.of("event", "read", "errno", "EIO", "offset", 0, "length", 4096);

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

    Reply delete(String uri) {
        return Reply.of(client.delete().uri(uri).exchange());
    }

    /** A chain in {@code sub}, its base under a blkdebug filter {@code sub-dbg} with {@code rules}. */
    Reply openWithFaultyBase(String sub, List<Map<String, Object>> rules) throws IOException {
        Chains.baseMidTop(QemuTools.require(), Files.createDirectories(dataRoot.resolve(sub)));
        Map<String, Object> base = Map.of(
                "driver",
                "blkdebug",
                "nodeName",
                sub + "-dbg",
                "injectErrors",
                rules,
                "image",
                Map.of("driver", "qcow2", "file", sub + "/base.qcow2"));
        Map<String, Object> mid = Map.of("driver", "qcow2", "file", sub + "/mid.qcow2", "backing", base);
        return post("/nodes", Map.of("nodeName", sub, "driver", "qcow2", "file", sub + "/top.qcow2", "backing", mid));
    }

    @Test
    void aFilterDefinedInsideAChainShowsUpInItLikeAnyFilter() throws IOException {
        assertThat(openWithFaultyBase("chain", List.of()).status()).isEqualTo(201);

        Reply chain = get("/nodes/chain/chain");

        assertThat(chain.body()
                        .valueStream()
                        .map(n -> n.get("driver").asString())
                        .toList())
                .containsExactly("qcow2", "qcow2", "blkdebug", "qcow2");
        Reply filter = get("/nodes/chain-dbg");
        assertThat(filter.text("driver")).isEqualTo("blkdebug");
        assertThat(filter.text("filename")).isEqualTo("chain/base.qcow2");
        assertThat(filter.body().get("implicit").asBoolean()).isFalse();
    }

    @Test
    void theRulesOfTheDefinitionAreListedWithIdsAndHits() throws IOException {
        openWithFaultyBase("listed", List.of(EIO_AT_0));

        Reply rules = get("/nodes/listed-dbg/inject-errors");

        assertThat(rules.status()).isEqualTo(200);
        assertThat(rules.body().get(0).get("event").asString()).isEqualTo("read");
        assertThat(rules.body().get(0).get("errno").asString()).isEqualTo("EIO");
        assertThat(rules.body().get(0).get("length").asLong()).isEqualTo(4096);
        assertThat(rules.body().get(0).get("once").asBoolean()).isFalse();
        assertThat(rules.body().get(0).get("hits").asLong()).isZero();
    }

    @Test
    void aRuleAddedIs201WithItsLocationAndGoneAfterDelete() throws IOException {
        openWithFaultyBase("added", List.of());

        Reply added = post("/nodes/added-dbg/inject-errors", Map.of("event", "flush", "errno", "ENOSPC"));

        assertThat(added.status()).as("%s", added).isEqualTo(201);
        long id = added.body().get("id").asLong();
        assertThat(added.headers().getLocation()).hasToString("/nodes/added-dbg/inject-errors/" + id);
        assertThat(added.body().get("length").isNull()).as("to the end").isTrue();
        assertThat(delete("/nodes/added-dbg/inject-errors/" + id).status()).isEqualTo(204);
        assertThat(get("/nodes/added-dbg/inject-errors").body().size()).isZero();
        assertProblem(delete("/nodes/added-dbg/inject-errors/" + id), 404);
    }

    @Test
    void anUnknownEventOrErrnoIs400NamingTheChoices() throws IOException {
        openWithFaultyBase("bad", List.of());

        Reply event = post("/nodes/bad-dbg/inject-errors", Map.of("event", "read_aio", "errno", "EIO"));
        Reply errno = post("/nodes/bad-dbg/inject-errors", Map.of("event", "read", "errno", "5"));

        assertProblem(event, 400, "invalid-argument");
        assertThat(event.text("detail")).contains("read_aio", "read", "write", "flush");
        assertProblem(errno, 400, "invalid-argument");
        assertThat(errno.text("detail")).contains("EIO", "ENOSPC");
    }

    @Test
    void aNegativeOffsetIs400AndOpensNothing() throws IOException {
        Reply r = openWithFaultyBase("negative", List.of(Map.of("event", "read", "errno", "EIO", "offset", -1)));

        assertProblem(r, 400);
        assertThat(get("/nodes/negative").status()).isEqualTo(404);
    }

    @Test
    void rulesOfANodeThatIsNoFilterAre400() throws IOException {
        openWithFaultyBase("plain", List.of());

        assertProblem(get("/nodes/plain/inject-errors"), 400, "invalid-argument");
        assertProblem(get("/nodes/nosuch/inject-errors"), 404);
    }

    @Test
    void blkdebugWithoutImageOrWithAFileIs400() throws IOException {
        Chains.baseMidTop(QemuTools.require(), Files.createDirectories(dataRoot.resolve("shape")));

        Reply noImage = post("/nodes", Map.of("nodeName", "noImage", "driver", "blkdebug"));
        Reply withFile = post(
                "/nodes",
                Map.of(
                        "nodeName",
                        "withFile",
                        "driver",
                        "blkdebug",
                        "file",
                        "shape/top.qcow2",
                        "image",
                        Map.of("driver", "qcow2", "file", "shape/top.qcow2")));
        Reply qcow2WithImage =
                post("/nodes", Map.of("nodeName", "q", "driver", "qcow2", "file", "shape/top.qcow2", "image", "x"));

        assertProblem(noImage, 400, "invalid-argument");
        assertThat(noImage.text("detail")).contains("'image'");
        assertProblem(withFile, 400, "invalid-argument");
        assertProblem(qcow2WithImage, 400, "invalid-argument");
    }

    @Test
    void aFilterOverAnOpenedNodeWrapsIt() throws IOException {
        Chains.baseMidTop(QemuTools.require(), Files.createDirectories(dataRoot.resolve("wrap")));
        assertThat(post("/nodes", Map.of("nodeName", "wrapTop", "driver", "qcow2", "file", "wrap/top.qcow2"))
                        .status())
                .isEqualTo(201);

        Reply r = post("/nodes", Map.of("nodeName", "wrapDbg", "driver", "blkdebug", "image", "wrapTop"));

        assertThat(r.status()).as("%s", r).isEqualTo(201);
        assertThat(r.text("file")).isEqualTo("wrapTop");
        assertThat(r.body().get("virtualSize").asLong())
                .isEqualTo(get("/nodes/wrapTop").body().get("virtualSize").asLong());
    }
}
