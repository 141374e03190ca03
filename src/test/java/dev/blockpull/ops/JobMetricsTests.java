package dev.blockpull.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * {@code /actuator/prometheus} during a running stream job and after it: every metric name as
 * the contract and conventions §7 pin it, exactly as Prometheus shows it.
 */
@BlockpullHttpTest(shared = false)
class JobMetricsTests {

    static final Duration WAIT = Duration.ofSeconds(30);

    @ServiceDataRoot
    static Path dataRoot;

    @Autowired
    RestTestClient client;

    String scrape() {
        Reply r = Reply.of(client.get().uri("/actuator/prometheus").exchange());
        assertThat(r.status()).isEqualTo(200);
        return r.raw();
    }

    void openAndStartCrawling(String node, String jobId) throws Exception {
        Chains.baseMidTop(QemuTools.require(), Files.createDirectories(dataRoot.resolve(node)));
        Reply opened = post("/nodes", Map.of("nodeName", node, "driver", "qcow2", "file", node + "/top.qcow2"));
        assertThat(opened.status()).as("%s", opened).isEqualTo(201);
        Reply started = post("/jobs/stream", Map.of("jobId", jobId, "device", node, "speed", 1024));
        assertThat(started.status()).as("%s", started).isEqualTo(201);
    }

    Reply post(String uri, Object body) {
        return Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange());
    }

    static boolean hasLine(String scrape, String regex) {
        return Pattern.compile(regex, Pattern.MULTILINE).matcher(scrape).find();
    }

    @Test
    void aRunningJobHasEveryPerJobSeriesAndTheyVanishOnceItIsDismissed() throws Exception {
        openAndStartCrawling("m1", "p1");

        await().atMost(WAIT).untilAsserted(() -> {
            String prom = scrape();
            assertThat(prom)
                    .containsPattern(
                            "(?m)^blockpull_job_progress_ratio\\{[^}]*job_id=\"p1\"[^}]*type=\"stream\"[^}]*} 0\\.\\d+");
            assertThat(prom)
                    .containsPattern("(?m)^blockpull_job_throughput_bytes_per_second\\{[^}]*job_id=\"p1\"[^}]*} ");
            assertThat(prom)
                    .containsPattern("(?m)^blockpull_job_offset_bytes\\{[^}]*job_id=\"p1\"[^}]*} [1-9][0-9.E]*$");
            assertThat(prom).containsPattern("(?m)^blockpull_job_length_bytes\\{[^}]*job_id=\"p1\"[^}]*} 4194304\\.0$");
        });

        post("/jobs/stream/p1/cancel", Map.of());

        await().atMost(WAIT).untilAsserted(() -> assertThat(scrape()).doesNotContain("job_id=\"p1\""));
        assertThat(scrape())
                .containsPattern(
                        "(?m)^blockpull_jobs_finished_total\\{[^}]*result=\"cancelled\"[^}]*type=\"stream\"[^}]*} [1-9]");
    }

    @Test
    void jobsByStatusHasAllElevenStatusesWithARunningJobCounted() throws Exception {
        openAndStartCrawling("m2", "p2");

        await().atMost(WAIT).untilAsserted(() -> {
            String prom = scrape();
            for (String status : new String[] {
                "undefined",
                "created",
                "running",
                "paused",
                "ready",
                "standby",
                "waiting",
                "pending",
                "aborting",
                "concluded",
                "null"
            }) {
                assertThat(hasLine(prom, "^blockpull_jobs\\{[^}]*status=\"" + status + "\"[^}]*} \\d"))
                        .as(status)
                        .isTrue();
            }
            assertThat(prom).containsPattern("(?m)^blockpull_jobs\\{[^}]*status=\"running\"[^}]*} 1\\.0$");
        });
        post("/jobs/stream/p2/cancel", Map.of());
    }

    @Test
    void eachJobHasARowPerStatusWithOneForItsCurrentStatus() throws Exception {
        openAndStartCrawling("m6", "p6");

        await().atMost(WAIT).untilAsserted(() -> {
            String prom = scrape();
            assertThat(prom)
                    .containsPattern(jobStatus("p6", "running") + "1\\.0$")
                    .containsPattern(jobStatus("p6", "paused") + "0\\.0$")
                    .containsPattern(jobStatus("p6", "concluded") + "0\\.0$");
            assertThat(prom.lines().filter(l -> l.startsWith("blockpull_job_status{") && l.contains("job_id=\"p6\"")))
                    .as("every status but null, which only dismissed jobs have")
                    .hasSize(10);
        });

        post("/jobs/stream/p6/pause", Map.of());

        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(scrape())
                        .containsPattern(jobStatus("p6", "paused") + "1\\.0$")
                        .containsPattern(jobStatus("p6", "running") + "0\\.0$"));
        post("/jobs/stream/p6/cancel?force=true", Map.of());
        await().atMost(WAIT).untilAsserted(() -> assertThat(scrape()).doesNotContain("job_id=\"p6\""));
    }

    static String jobStatus(String jobId, String status) {
        return "(?m)^blockpull_job_status\\{(?=[^}]*job_id=\"" + jobId + "\")(?=[^}]*status=\"" + status + "\")[^}]*} ";
    }

    @Test
    void streamCopiedBytesCountTheCopiedChunks() throws Exception {
        openAndStartCrawling("m3", "p3");

        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(scrape())
                        .containsPattern("(?m)^blockpull_stream_copied_bytes_total\\{[^}]*} [1-9][0-9.E]*$"));
        post("/jobs/stream/p3/cancel", Map.of());
    }

    @Test
    void openNodesHaveAnInflightSeriesAndDrainGaugesExist() throws Exception {
        Chains.baseMidTop(QemuTools.require(), Files.createDirectories(dataRoot.resolve("m4")));
        post("/nodes", Map.of("nodeName", "m4", "driver", "qcow2", "file", "m4/top.qcow2"));

        await().atMost(WAIT).untilAsserted(() -> {
            String prom = scrape();
            assertThat(prom).containsPattern("(?m)^blockpull_node_inflight_requests\\{[^}]*node=\"m4\"[^}]*} 0\\.0$");
            assertThat(prom).containsPattern("(?m)^blockpull_drain_in_progress\\{[^}]*} 0\\.0$");
            assertThat(prom).containsPattern("(?m)^blockpull_drain_longest_wait_seconds\\{[^}]*} ");
            assertThat(prom).containsPattern("(?m)^blockpull_inflight_oldest_seconds\\{[^}]*} ");
        });
    }

    @Test
    void aClosedNodesSeriesDisappears() throws Exception {
        Chains.baseMidTop(QemuTools.require(), Files.createDirectories(dataRoot.resolve("m5")));
        post("/nodes", Map.of("nodeName", "m5", "driver", "qcow2", "file", "m5/top.qcow2"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(scrape()).contains("node=\"m5\""));

        Reply deleted = Reply.of(client.delete().uri("/nodes/m5").exchange());

        assertThat(deleted.status()).as("%s", deleted).isEqualTo(204);
        await().atMost(WAIT).untilAsserted(() -> assertThat(scrape()).doesNotContain("node=\"m5\""));
    }
}
