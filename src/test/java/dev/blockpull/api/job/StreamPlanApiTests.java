package dev.blockpull.api.job;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/**
 * {@code POST /jobs/stream/plan} over a real port on real qemu-img chains: the plan's figures
 * against what the job then really does, nothing changed by a plan, and the start's errors.
 */
@BlockpullHttpTest(shared = false)
class StreamPlanApiTests {

    @ServiceDataRoot
    static Path dataRoot;

    @Autowired
    RestTestClient client;

    JobApi api;

    @BeforeEach
    void api() {
        api = new JobApi(client, dataRoot);
    }

    /** Where each case streams to: the whole chain, down to the base image, or from mid only. */
    static Stream<String> bounds() {
        return Stream.of("whole-chain", "base", "bottom");
    }

    @ParameterizedTest
    @MethodSource("bounds")
    void theJobCopiesExactlyTheBytesThePlanAnnounced(String bound) throws Exception {
        String device = "b-" + bound;
        Chain chain = api.openChain(device);
        List<String> below = chainBelow(device);
        Map<String, Object> body = new HashMap<>(Map.of("jobId", device, "device", device, "autoDismiss", false));
        switch (bound) {
            case "base" -> body.put("base", device + "/base.qcow2");
            case "bottom" -> body.put("bottom", below.get(0));
            default -> {}
        }

        Reply plan = api.post("/jobs/stream/plan", body);

        assertThat(plan.status()).as("%s", plan).isEqualTo(200);
        JsonNode p = plan.body();
        long bytesToCopy = p.get("bytesToCopy").asLong();
        assertThat(bytesToCopy).isPositive();
        assertThat(p.get("extentsToCopy").asLong()).isPositive().isLessThanOrEqualTo(bytesToCopy);
        assertThat(p.get("length").asLong()).isEqualTo(chain.layer("top.qcow2").size());
        assertThat(p.get("jobId").asString()).isEqualTo(device);
        assertThat(p.get("device").asString()).isEqualTo(device);
        if (bound.equals("whole-chain")) {
            assertThat(texts(p.get("removedNodes"), null)).isEqualTo(below);
            assertThat(p.get("baseNode").isNull()).isTrue();
            assertThat(p.get("backingFile").isNull()).as("no backing file left").isTrue();
        } else {
            assertThat(texts(p.get("removedNodes"), null)).isEqualTo(below.subList(0, 1));
            assertThat(p.get("baseNode").asString()).isEqualTo(below.get(1));
            assertThat(p.get("bottom").asString()).isEqualTo(below.get(0));
            assertThat(p.get("backingFile").asString()).isEqualTo("base.qcow2");
        }

        api.start(body);
        Reply done = api.awaitStatus(device, "concluded");

        assertThat(done.text("result")).as("%s", done).isEqualTo("completed");
        assertThat(copiedByJob(device))
                .as("blockpull_stream_job_copied_bytes of the job")
                .isEqualTo(bytesToCopy);
        assertThat(done.body().get("totalProgress").asLong())
                .isEqualTo(p.get("length").asLong());
        api.post("/jobs/stream/" + device + "/dismiss");
    }

    @Test
    void aPlanWritesNothingAndLeavesTheGraphAsItWas() throws Exception {
        Chain chain = api.openChain("c2");
        Map<Path, String> filesBefore = sha256(chain.paths());
        String nodesBefore = api.get("/nodes").raw();
        String chainBefore = api.get("/nodes/c2/chain").raw();

        Reply plan =
                api.post("/jobs/stream/plan", Map.of("device", "c2", "speed", JobApi.CRAWL, "filterNodeName", "cor2"));

        assertThat(plan.status()).as("%s", plan).isEqualTo(200);
        assertThat(sha256(chain.paths())).isEqualTo(filesBefore);
        assertThat(api.get("/nodes").raw()).isEqualTo(nodesBefore);
        assertThat(api.get("/nodes/c2/chain").raw()).isEqualTo(chainBefore).doesNotContain("copy-on-read");
        assertThat(api.get("/jobs/stream/c2").status()).as("no job").isEqualTo(404);
        assertThat(api.startCrawling("c2", "c2").status())
                .as("nothing frozen or held")
                .isEqualTo(201);
        api.post("/jobs/stream/c2/cancel");
    }

    /** Request bodies that fail, each for another check of the start. */
    static Stream<Map<String, Object>> badBodies() {
        return Stream.of(
                Map.of("device", "nope"),
                Map.of("device", "e1", "base", "e1/base.qcow2", "baseNode", "x"),
                Map.of("device", "e1", "base", "elsewhere.qcow2"),
                Map.of("device", "e1", "baseNode", "e1"),
                Map.of("device", "e1", "backingFile", "base.qcow2"),
                Map.of("device", "e1", "jobId", "1st"),
                Map.of("device", "e1", "speed", -1),
                Map.of("device", "e1", "filterNodeName", "9cor"),
                Map.of("device", "e1", "filterNodeName", "e1"),
                Map.of("device", "e1", "onError", "panic"),
                Map.of("device", "e1", "baseNod", "x"));
    }

    @ParameterizedTest
    @MethodSource("badBodies")
    void aPlanFailsWithTheProblemTheStartFailsWith(Map<String, Object> body) throws Exception {
        if (api.get("/nodes/e1").status() == 404) {
            api.openChain("e1");
        }

        Reply plan = api.post("/jobs/stream/plan", body);
        Reply start = api.post("/jobs/stream", body);

        assertProblem(plan, start.status());
        assertThat(start.status()).as("%s", start).isBetween(400, 499);
        for (String member : List.of("type", "title", "detail", "errorClass")) {
            assertThat(plan.text(member)).as(member).isEqualTo(start.text(member));
        }
    }

    @Test
    void aPlanWithTheIdOfALiveJobIs409AsTheStartWouldBe() throws Exception {
        api.openChain("c4");
        api.openChain("c4b");
        api.startCrawling("j4", "c4");

        Reply sameId = api.post("/jobs/stream/plan", Map.of("jobId", "j4", "device", "c4b"));
        Reply sameChain = api.post("/jobs/stream/plan", Map.of("jobId", "other", "device", "c4"));

        assertProblem(sameId, 409);
        assertThat(sameId.text("detail")).isEqualTo("Job ID 'j4' already in use");
        assertProblem(sameChain, 409);
        assertThat(sameChain.text("detail")).startsWith("Node 'c4' is busy");
        api.post("/jobs/stream/j4/cancel");
    }

    @Test
    void withASpeedLimitTheEstimateIsTheBytesOverTheSpeed() throws Exception {
        api.openChain("c5");

        JsonNode p = api.post("/jobs/stream/plan", Map.of("device", "c5", "speed", 65536))
                .body();

        long bytes = p.get("bytesToCopy").asLong();
        assertThat(p.get("estimateBasis").asString()).isEqualTo("speed");
        assertThat(p.get("estimatedSeconds").asLong()).isEqualTo((bytes + 65535) / 65536);
    }

    @Test
    void withoutASpeedLimitTheEstimateComesFromRecentJobs() throws Exception {
        api.openChain("c6");
        api.start(Map.of("device", "c6"));
        api.awaitStatus("c6", "null");
        api.openChain("c7");

        JsonNode p = api.post("/jobs/stream/plan", Map.of("device", "c7")).body();

        assertThat(p.get("estimateBasis").asString()).isEqualTo("recent-jobs");
        assertThat(p.get("estimatedSeconds").isIntegralNumber()).as("%s", p).isTrue();
    }

    /** Names of the nodes below {@code device}, top first (GET /nodes/{n}/chain without the device). */
    private List<String> chainBelow(String device) {
        List<String> names = texts(api.get("/nodes/" + device + "/chain").body(), "nodeName");
        return names.subList(1, names.size());
    }

    private long copiedByJob(String jobId) {
        String prom = api.get("/actuator/prometheus").raw();
        Matcher m = Pattern.compile(
                        "(?m)^blockpull_stream_job_copied_bytes\\{[^}]*job_id=\"" + jobId + "\"[^}]*} ([0-9.E+]+)$")
                .matcher(prom);
        assertThat(m.find()).as("series of %s in %s", jobId, prom).isTrue();
        return (long) Double.parseDouble(m.group(1));
    }

    /** The items of a JSON array as text, or their {@code member} when one is named. */
    private static List<String> texts(JsonNode array, @Nullable String member) {
        return array.valueStream()
                .map(n -> member == null ? n.asString() : n.get(member).asString())
                .toList();
    }

    private static Map<Path, String> sha256(List<Path> files) throws IOException, NoSuchAlgorithmException {
        Map<Path, String> sums = new LinkedHashMap<>();
        for (Path f : files) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (InputStream in = Files.newInputStream(f)) {
                digest.update(in.readAllBytes());
            }
            sums.put(f, HexFormat.of().formatHex(digest.digest()));
        }
        return sums;
    }
}
