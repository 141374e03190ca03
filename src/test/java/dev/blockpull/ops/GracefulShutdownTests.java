package dev.blockpull.ops;

import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SIGTERM on a real process while a throttled stream job runs: the service exits within the
 * graceful timeout, the job is parked and cancelled, and the image is clean, not dirty and shows
 * the same guest content as before (issue "Health and lifecycle").
 */
class GracefulShutdownTests {

    static final Duration START = Duration.ofSeconds(90);

    @TempDir
    Path dataRoot;

    @TempDir
    Path work;

    Process process;

    @AfterEach
    void kill() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
    }

    @Test
    void sigtermDuringAThrottledStreamLeavesACleanImageWithItsContent() throws Exception {
        QemuTools qemu = QemuTools.require();
        Chain chain = Chains.baseMidTop(qemu, Files.createDirectories(dataRoot.resolve("vm")));
        Path reference = work.resolve("ref.raw");
        qemu.convertToRaw(chain.top(), reference);
        int port = freePort();
        Path log = work.resolve("service.log");
        process = new ProcessBuilder(javaBinary(), "-cp", applicationClassPath(), "dev.blockpull.BlockpullApplication",
                "--server.port=" + port, "--blockpull.data-root=" + dataRoot, "--blockpull.nbd.port=0")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Http http = new Http(port);
        await().atMost(START).ignoreExceptions().until(() -> http.get("/actuator/health").statusCode() == 200);
        assertThat(http.post("/nodes", "{\"nodeName\":\"top\",\"driver\":\"qcow2\",\"file\":\"vm/top.qcow2\"}")
                .statusCode()).isEqualTo(201);
        assertThat(http.post("/jobs/stream", "{\"jobId\":\"s1\",\"device\":\"top\",\"speed\":1024}").statusCode())
                .isEqualTo(201);
        await().atMost(Duration.ofSeconds(30)).until(() -> http.get("/jobs/stream/s1").body()
                .matches(".*\"status\":\"running\".*\"currentProgress\":[1-9].*"));

        process.destroy(); // SIGTERM

        assertThat(process.waitFor(40, TimeUnit.SECONDS)).as("exits within the graceful timeout").isTrue();
        assertThat(qemu.check(chain.top()).isClean()).as(qemu.check(chain.top()).describe()).isTrue();
        assertThat(qemu.info(chain.top()).get("dirty-flag").asBoolean()).as("dirty flag").isFalse();
        assertThat(qemu.info(chain.top()).get("backing-filename").asString()).isEqualTo("mid.qcow2");
        assertThat(qemu.compare(reference, chain.top()).exitCode()).as("guest content unchanged").isZero();
        assertThat(Files.readString(log)).contains("Job scheduler stopped").doesNotContain("did not end");
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The test JVM's class path without the test classes (their test configurations must not load). */
    private static String applicationClassPath() {
        List<String> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.replace('\\', '/').endsWith("test-classes") && !e.replace('\\', '/').endsWith("test-classes/")) {
                entries.add(e);
            }
        }
        assertThat(entries).as("class path").anyMatch(e -> e.replace('\\', '/').endsWith("target/classes")
                || e.replace('\\', '/').endsWith("target/classes/"));
        return String.join(File.pathSeparator, entries);
    }

    private record Http(int port) {
        HttpResponse<String> get(String path) throws Exception {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString());
        }

        HttpResponse<String> post(String path, String json) throws Exception {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json))
                    .build(), HttpResponse.BodyHandlers.ofString());
        }

        private URI uri(String path) {
            return URI.create("http://127.0.0.1:" + port + path);
        }
    }

}
