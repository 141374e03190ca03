package dev.blockpull.api.job;

import static dev.blockpull.testsupport.AssertImages.assertBacking;
import static dev.blockpull.testsupport.AssertImages.assertCheckClean;
import static dev.blockpull.testsupport.AssertImages.assertSameContent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * The on-error policies driven from outside, as QEMU's iotests 030 ({@code TestEIO},
 * {@code TestENOSPC}) drive them with blkdebug: over a real port, a blkdebug filter opened through
 * {@code /nodes} over the top, the intermediate or the base of a real qcow2 chain, the error it
 * injects met by a real stream job, its rule removed over HTTP. After every run the images pass
 * {@code qemu-img check} and the top's guest content equals the chain's before the job.
 */
@BlockpullHttpTest(properties = "blockpull.debug.fault-injection=true")
class StreamFaultPolicyTests {

    static final long MIB = Chains.MIB;

    @ServiceDataRoot
    static Path dataRoot;

    /**
     * Where the blkdebug filter sits, and the request of the stream that meets its rule there: in
     * the top, the copy's write of the base's data at 2 MiB; in mid, the read of mid's data at
     * 1 MiB; in the base, the read of the base's data at 2 MiB.
     */
    enum Layer {
        TOP("write", 2 * MIB),
        MID("read", MIB),
        BASE("read", 2 * MIB);

        final String event;
        final long offset;

        Layer(String event, long offset) {
            this.event = event;
            this.offset = offset;
        }
    }

    private static final AtomicInteger RUNS = new AtomicInteger();

    @Autowired
    RestTestClient client;

    @LocalServerPort
    int port;

    JobApi api;
    SseClient sse;
    String run;
    Chain chain;
    Path before;

    @BeforeEach
    void setUp() throws Exception {
        api = new JobApi(client, dataRoot);
        sse = SseClient.open(port, null);
        run = "r" + RUNS.incrementAndGet();
        chain = Chains.in(QemuTools.require(), Files.createDirectories(dataRoot.resolve(run)))
                .base("base.qcow2", "qcow2", 4 * MIB)
                .write(0, 4 * MIB, 0x11)
                .overlay("mid.qcow2")
                .write(MIB, MIB, 0x22)
                .overlay("top.qcow2")
                .write(3 * MIB, 64 * 1024, 0x33)
                .build();
        before = dataRoot.resolve(run + "-before.raw");
        QemuTools.require().convertToRaw(chain.top(), before);
    }

    @AfterEach
    void closeEvents() {
        sse.close();
    }

    @ParameterizedTest
    @EnumSource(Layer.class)
    void reportFailsTheJobWithTheErrorInItsBodyAndInBlockJobError(Layer layer) {
        String device = openChainFailingAt(layer, "EIO");

        Reply done = runToEnd(device, "report");

        assertThat(done.text("result")).isEqualTo("failed");
        assertThat(done.text("error")).isEqualTo("Input/output error");
        // QEMU sets a job's io-status only when the error stops it
        assertThat(done.text("ioStatus")).isEqualTo("ok");
        assertThat(errorActions()).containsExactly("read/report");
        assertChainUnchangedAndIntact(device);
    }

    @ParameterizedTest
    @EnumSource(Layer.class)
    void ignoreGoesOnToTheEndAndThenFails(Layer layer) {
        String device = openChainFailingAt(layer, "EIO");

        Reply done = runToEnd(device, "ignore");

        assertThat(done.text("result")).isEqualTo("failed");
        assertThat(done.text("error")).isEqualTo("Input/output error");
        assertThat(done.body().get("currentProgress").asLong()).isEqualTo(4 * MIB);
        assertThat(errorActions()).isNotEmpty().allMatch("read/ignore"::equals);
        assertChainUnchangedAndIntact(device);
    }

    @ParameterizedTest
    @EnumSource(Layer.class)
    void stopPausesAndResumeAfterTheRuleIsRemovedCompletes(Layer layer) {
        String errno = layer == Layer.TOP ? "ENOSPC" : "EIO";
        String device = openChainFailingAt(layer, errno);
        api.start(Map.of("jobId", run, "device", device, "onError", "stop"));

        Reply paused = api.awaitStatus(run, "paused");

        assertThat(paused.text("ioStatus")).isEqualTo(errno.equals("ENOSPC") ? "nospace" : "failed");
        assertThat(errorActions()).containsExactly("read/stop");
        removeRule();
        assertThat(api.post("/jobs/stream/" + run + "/resume").status()).isEqualTo(200);
        Reply done = api.awaitStatus(run, "null");
        assertThat(done.text("result")).isEqualTo("completed");
        assertStreamedAndIntact(device);
    }

    @ParameterizedTest
    @EnumSource(
            value = Layer.class,
            names = {"MID", "BASE"})
    void enospcStopsOnNoSpaceAndResumesToCompletion(Layer layer) {
        String device = openChainFailingAt(layer, "ENOSPC");
        api.start(Map.of("jobId", run, "device", device, "onError", "enospc"));

        Reply paused = api.awaitStatus(run, "paused");

        assertThat(paused.text("ioStatus")).isEqualTo("nospace");
        removeRule();
        api.post("/jobs/stream/" + run + "/resume");
        assertThat(api.awaitStatus(run, "null").text("result")).isEqualTo("completed");
        assertThat(errorActions()).containsExactly("read/stop");
        assertStreamedAndIntact(device);
    }

    @ParameterizedTest
    @EnumSource(
            value = Layer.class,
            names = {"TOP", "MID"})
    void enospcReportsAnyOtherError(Layer layer) {
        String device = openChainFailingAt(layer, "EIO");

        Reply done = runToEnd(device, "enospc");

        assertThat(done.text("result")).isEqualTo("failed");
        assertThat(done.text("error")).isEqualTo("Input/output error");
        assertThat(errorActions()).containsExactly("read/report");
        assertChainUnchangedAndIntact(device);
    }

    @Test
    void aStreamDownToAFilteredBaseNeverReadsTheBaseAndKeepsTheFilterAsBacking() {
        String device = openChainFailingAt(Layer.BASE, "EIO");

        Reply done = runToEnd(device, Map.of("baseNode", filter()));

        assertThat(done.text("result")).isEqualTo("completed");
        assertThat(api.get("/nodes/" + device).text("backing")).isEqualTo(filter());
        assertThat(errorActions()).isEmpty();
        closeNodes(device);
        assertBacking(chain.top(), "base.qcow2", "qcow2");
        assertIntact();
    }

    // ------------------------------------------------------------------ set-up

    /** The filter's node name in this run. */
    private String filter() {
        return run + "-dbg";
    }

    /**
     * Opens top <- mid <- base with the blkdebug filter over {@code layer}, its one rule failing
     * the layer's request with {@code errno}; returns the stream's device: the filter itself
     * when it wraps the top (QEMU streams into the node under a filter device).
     */
    private String openChainFailingAt(Layer layer, String errno) {
        Map<String, Object> rule =
                Map.of("event", layer.event, "errno", errno, "offset", layer.offset, "length", 64 * 1024);
        Map<String, Object> base = format(null, "base.qcow2", null);
        Map<String, Object> mid = format(null, "mid.qcow2", layer == Layer.BASE ? blkdebug(base, rule) : base);
        Map<String, Object> top = format(run, "top.qcow2", layer == Layer.MID ? blkdebug(mid, rule) : mid);
        Map<String, Object> root = layer == Layer.TOP ? blkdebug(top, rule) : top;
        Reply opened = api.post("/nodes", root);
        assertThat(opened.status()).as("%s", opened).isEqualTo(201);
        List<String> chainDrivers = api.get("/nodes/" + opened.text("nodeName") + "/chain")
                .body()
                .valueStream()
                .map(n -> n.get("driver").asString())
                .toList();
        assertThat(chainDrivers).as("the filter shows up in the chain").contains("blkdebug");
        return opened.text("nodeName");
    }

    private Map<String, Object> format(@Nullable String name, String file, @Nullable Map<String, Object> backing) {
        Map<String, Object> def = new HashMap<>();
        if (name != null) {
            def.put("nodeName", name);
        }
        def.put("driver", "qcow2");
        def.put("file", run + "/" + file);
        if (backing != null) {
            def.put("backing", backing);
        }
        return def;
    }

    private Map<String, Object> blkdebug(Map<String, Object> image, Map<String, Object> rule) {
        return Map.of("nodeName", filter(), "driver", "blkdebug", "image", image, "injectErrors", List.of(rule));
    }

    private Reply runToEnd(String device, String onError) {
        return runToEnd(device, Map.of("onError", onError));
    }

    private Reply runToEnd(String device, Map<String, String> arguments) {
        Map<String, Object> body = new HashMap<>(arguments);
        body.put("jobId", run);
        body.put("device", device);
        api.start(body);
        return api.awaitStatus(run, "null");
    }

    private void removeRule() {
        Reply rules = api.get("/nodes/" + filter() + "/inject-errors");
        assertThat(rules.body().size()).as("%s", rules).isEqualTo(1);
        assertThat(rules.body().get(0).get("hits").asLong()).isPositive();
        String uri = "/nodes/" + filter() + "/inject-errors/"
                + rules.body().get(0).get("id").asLong();
        assertThat(Reply.of(client.delete().uri(uri).exchange()).status()).isEqualTo(204);
    }

    /** BLOCK_JOB_ERROR events of this run over SSE, as "operation/action". */
    private List<String> errorActions() {
        await().atMost(JobApi.WAIT)
                .until(() -> sse.statusesOf(run).contains("null")
                        || sse.statusesOf(run).contains("paused"));
        return sse.eventsOf(run).stream()
                .filter(e -> e.name().equals("BLOCK_JOB_ERROR"))
                .map(e -> e.data().replaceAll(".*\"operation\":\"(\\w+)\".*\"action\":\"(\\w+)\".*", "$1/$2"))
                .toList();
    }

    // ------------------------------------------------------------------ nothing lost

    private void assertChainUnchangedAndIntact(String device) {
        closeNodes(device);
        assertBacking(chain.top(), "mid.qcow2", "qcow2");
        assertIntact();
    }

    private void assertStreamedAndIntact(String device) {
        closeNodes(device);
        assertBacking(chain.top(), null, null);
        assertIntact();
    }

    private void assertIntact() {
        for (Path layer : chain.paths()) {
            assertCheckClean(layer);
        }
        assertSameContent(before, chain.top());
    }

    /** The device, then the other named node: the top under a filter device, or the filter the stream left. */
    private void closeNodes(String device) {
        for (String node : device.equals(filter()) ? List.of(device, run) : List.of(device, filter())) {
            Reply r = Reply.of(client.delete().uri("/nodes/" + node).exchange());
            assertThat(r.status()).as("DELETE %s: %s", node, r).isEqualTo(204);
        }
    }
}
