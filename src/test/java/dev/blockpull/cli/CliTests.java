package dev.blockpull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.ProcessResult;
import dev.blockpull.testsupport.Qcow2Surgery;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The real {@code blockpull} jar as a child process against a real service on real images: exit
 * codes, what goes to stdout and stderr, {@code --output json}.
 */
@BlockpullHttpTest(properties = "blockpull.jobs.progress-interval=100ms")
class CliTests {

    static final JsonMapper JSON = JsonMapper.builder().build();

    @ServiceDataRoot
    static Path dataRoot;

    @TempDir
    Path work;

    @LocalServerPort
    int port;

    @Autowired
    RestTestClient client;

    QemuTools qemu;
    CliProcess cli;

    @BeforeEach
    void cli() {
        qemu = QemuTools.require();
        cli = CliProcess.against(port);
    }

    /** A base/mid/top chain in {@code dataRoot/name}, opened over HTTP as node {@code name}. */
    Chain openChain(String name) throws Exception {
        Chain chain = Chains.baseMidTop(qemu, Files.createDirectories(dataRoot.resolve(name)));
        post("/nodes", Map.of("nodeName", name, "driver", "qcow2", "file", name + "/top.qcow2"));
        return chain;
    }

    /** A job on the chain of {@link #openChain} that copies one chunk and then sleeps for minutes. */
    void startCrawling(String name) throws Exception {
        openChain(name);
        post("/jobs/stream", Map.of("jobId", name, "device", name, "speed", 1024));
    }

    void post(String uri, Object body) {
        client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange()
                .expectStatus()
                .is2xxSuccessful();
    }

    @Test
    void streamWithWaitExitsZeroWithACompletedJobAndAFlattenedImage() throws Exception {
        Chain chain = openChain("c1");
        Path reference = work.resolve("ref.raw");
        qemu.convertToRaw(chain.top(), reference);

        ProcessResult r = cli.run("stream", "c1", "--speed", "4M", "--wait");

        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout()).contains("c1").contains("result=completed");
        assertThat(r.stderr())
                .as("one line per change without a terminal")
                .contains("c1 running")
                .containsPattern("c1 running +\\d+%")
                .doesNotContain("\r");
        assertThat(qemu.check(chain.top()).isClean()).isTrue();
        assertThat(qemu.info(chain.top()).has("backing-filename"))
                .as("no backing file left")
                .isFalse();
        assertThat(qemu.compare(reference, chain.top()).exitCode())
                .as("same guest content")
                .isZero();
    }

    @Test
    void outputJsonPrintsTheFinishedJobAsJson() throws Exception {
        openChain("c2");

        ProcessResult r = cli.run("--output", "json", "stream", "c2", "--wait");

        assertThat(r.exitCode()).as(r.describe()).isZero();
        JsonNode job = JSON.readTree(r.stdout());
        assertThat(job.get("id").asString()).isEqualTo("c2");
        assertThat(job.get("result").asString()).isEqualTo("completed");
        assertThat(job.get("currentProgress").asLong())
                .isEqualTo(job.get("totalProgress").asLong());
    }

    @Test
    void nodesOpenedWithTheCliAreListedAsAJsonArray() throws Exception {
        Chains.baseMidTop(qemu, Files.createDirectories(dataRoot.resolve("c3")));
        ProcessResult open = cli.run("nodes", "open", "c3", "c3/top.qcow2");
        assertThat(open.exitCode()).as(open.describe()).isZero();

        ProcessResult r = cli.run("nodes", "list", "-o", "json");

        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(JSON.readTree(r.stdout()).isArray()).isTrue();
        assertThat(JSON.readTree(r.stdout()).findValuesAsString("nodeName")).contains("c3");
    }

    @Test
    void exportsCreateSendsTheAllowedClientSubjects() throws Exception {
        openChain("c9");

        ProcessResult r = cli.run("exports", "create", "c9x", "c9", "--allow-subject", "CN=hypervisor-1,O=Example");

        // this service verifies no client certificates, so it refuses the list: the service saw it
        assertThat(r.exitCode()).as(r.describe()).isEqualTo(5);
        assertThat(r.stderr()).contains("allowedClientSubjects needs verified client certificates");
    }

    @Test
    void aBadDeviceExitsFiveWithTheProblemsDetailOnStderr() {
        ProcessResult r = cli.run("stream", "nope", "--wait");

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(5);
        assertThat(r.stderr()).contains("404").contains("Cannot find device='nope' nor node-name='nope'");
        assertThat(r.stdout()).isEmpty();
    }

    @Test
    void aJobThatMeetsAnIoErrorExitsOneWithItsErrorOnStderr() throws Exception {
        Path dir = Files.createDirectories(dataRoot.resolve("c4"));
        Chain chain = Chains.baseMidTop(qemu, dir);
        // The base's first data cluster now lies past the end of its file: reading it fails.
        Qcow2Surgery.setL2Entry(chain.base(), 0, Qcow2Surgery.OFLAG_COPIED | (1L << 40));
        post("/nodes", Map.of("nodeName", "c4", "driver", "qcow2", "file", "c4/top.qcow2"));

        ProcessResult r = cli.run("stream", "c4", "--wait");

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
        assertThat(r.stderr()).contains("job c4 failed:");
        assertThat(r.stdout()).contains("result=failed");
        assertThat(qemu.info(chain.top()).get("backing-filename").asString())
                .as("chain untouched")
                .isEqualTo("mid.qcow2");
    }

    @Test
    void verbsDriveARunningJobAndWaitExitsWithItsOutcome() throws Exception {
        startCrawling("c5");

        assertThat(cli.run("jobs", "pause", "c5").exitCode()).isZero();
        ProcessResult paused = cli.run("jobs", "wait", "c5", "--for", "paused", "--timeout", "20");
        assertThat(paused.exitCode()).as(paused.describe()).isZero();
        assertThat(paused.stdout()).contains("paused");
        assertThat(cli.run("jobs", "set-speed", "c5", "2K").stdout()).contains("speed=2.0 KiB/s");
        assertThat(cli.run("jobs", "resume", "c5").exitCode()).isZero();
        assertThat(cli.run("jobs", "cancel", "c5").exitCode()).isZero();

        ProcessResult cancelled = cli.run("jobs", "wait", "c5", "--progress");
        assertThat(cancelled.exitCode()).as(cancelled.describe()).isEqualTo(3);
        assertThat(cancelled.stderr()).contains("job c5 was cancelled");
    }

    @Test
    void aWaitThatTimesOutExitsSix() throws Exception {
        startCrawling("c6");

        ProcessResult r = cli.run("jobs", "wait", "c6", "--timeout", "1");

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(6);
        assertThat(r.stderr()).contains("job c6 is running, not concluded");
        post("/jobs/stream/c6/cancel", Map.of());
    }

    @Test
    void withoutAServiceTheCliExitsFour() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }

        ProcessResult r = CliProcess.against(closed).run("jobs", "list");

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(4);
        assertThat(r.stderr()).contains("cannot reach http://127.0.0.1:" + closed);
    }

    @Test
    void healthOfALiveServiceExitsZeroAndPrintsUp() {
        ProcessResult all = cli.run("health");
        ProcessResult liveness = cli.run("health", "liveness");

        assertThat(all.exitCode()).as(all.describe()).isZero();
        assertThat(all.stdout().strip()).isEqualTo("UP");
        assertThat(liveness.exitCode()).as(liveness.describe()).isZero();
        assertThat(liveness.stdout().strip()).isEqualTo("UP");
    }

    @Test
    void healthThatIsDownExitsOneAndSaysSoOnStderr() throws Exception {
        HttpServer down = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        down.createContext("/actuator/health/liveness", exchange -> {
            byte[] body = "{\"status\":\"DOWN\"}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(503, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        down.start();
        try {
            ProcessResult r = CliProcess.against(down.getAddress().getPort()).run("health", "liveness");

            assertThat(r.exitCode()).as(r.describe()).isEqualTo(1);
            assertThat(r.stderr())
                    .contains("/actuator/health/liveness answered 503")
                    .contains("not UP");
        } finally {
            down.stop(0);
        }
    }

    @Test
    void healthWithoutAServiceExitsFour() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }

        ProcessResult r = CliProcess.against(closed).run("health", "readiness");

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(4);
    }

    @Test
    void theUrlOptionWinsOverTheEnvironment() {
        ProcessResult r = CliProcess.withEnvironment(Map.of("BLOCKPULL_URL", "http://127.0.0.1:1"))
                .run("jobs", "list", "--url", "http://127.0.0.1:" + port);

        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout()).startsWith("JOB");
    }

    @Test
    void streamPlanPrintsWhatTheStreamWouldDoAndStartsNothing() throws Exception {
        openChain("p1");

        ProcessResult r = cli.run("stream", "p1", "--base", "p1/base.qcow2", "--speed", "64K", "--plan");

        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout())
                .contains("job p1 on p1 would copy")
                .contains("new backing file: base.qcow2")
                .containsPattern("estimated time: \\d+ s \\(from speed\\)");
        client.get().uri("/jobs/stream/p1").exchange().expectStatus().isNotFound();
    }

    @Test
    void streamPlanWithOutputJsonPrintsThePlanAsJson() throws Exception {
        openChain("p2");

        ProcessResult r = cli.run("-o", "json", "stream", "p2", "--plan");

        assertThat(r.exitCode()).as(r.describe()).isZero();
        JsonNode plan = JSON.readTree(r.stdout());
        assertThat(plan.get("bytesToCopy").asLong()).isPositive();
        assertThat(plan.get("removedNodes").size()).as("mid and base").isEqualTo(2);
        assertThat(plan.get("backingFile").isNull()).isTrue();
    }

    @Test
    void aPlanTheServiceRefusesExitsFiveWithTheStartsProblem() {
        ProcessResult r = cli.run("stream", "nope", "--plan");

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(5);
        assertThat(r.stderr()).contains("404").contains("Cannot find device='nope' nor node-name='nope'");
    }

    @Test
    void planAndWaitTogetherAreAUsageError() {
        ProcessResult r = cli.run("stream", "p3", "--plan", "--wait");

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr()).contains("mutually exclusive");
    }

    @Test
    void aBadSizeIsAUsageError() {
        ProcessResult r = cli.run("stream", "c1", "--speed", "fast");

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(2);
        assertThat(r.stderr()).contains("'fast' is not a size");
    }

    @Test
    void imagesCreateListAndInfoShowTheChain() {
        assertThat(cli.run("images", "create", "i1/base.qcow2", "--size", "1M").exitCode())
                .isZero();
        ProcessResult overlay = cli.run("images", "create", "i1/top.qcow2", "-b", "base.qcow2", "-F", "qcow2");
        assertThat(overlay.exitCode()).as(overlay.describe()).isZero();

        assertThat(cli.run("images", "list").stdout()).contains("i1/base.qcow2").contains("i1/top.qcow2");
        ProcessResult info = cli.run("images", "info", "i1/top.qcow2");
        assertThat(info.stdout().lines()).hasSize(2);
        assertThat(info.stdout()).contains("1.0 MiB").contains("base.qcow2");
    }
}
