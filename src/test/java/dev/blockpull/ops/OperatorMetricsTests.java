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
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * The operator meters beyond the contract's names (issue #5, Metrics), scraped from
 * {@code /actuator/prometheus} during a running stream job and after it: copied bytes per job,
 * chunk copy latency, drain duration, image I/O bytes and errors per node. Names pinned exactly.
 */
@BlockpullHttpTest(shared = false)
class OperatorMetricsTests {

    static final Duration WAIT = Duration.ofSeconds(30);
    static final String NUMBER_ABOVE_ZERO = "(?:[1-9][0-9.E-]*|0\\.[0-9]*[1-9][0-9E-]*)$";

    @ServiceDataRoot
    static Path dataRoot;

    @Autowired
    RestTestClient client;

    String scrape() {
        Reply r = Reply.of(client.get().uri("/actuator/prometheus").exchange());
        assertThat(r.status()).isEqualTo(200);
        return r.raw();
    }

    Reply post(String uri, Object body) {
        return Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange());
    }

    @Test
    void copiedBytesPerJobChunkLatencyDrainDurationAndNodeIoDuringAndAfterAJob() throws Exception {
        Chains.baseMidTop(QemuTools.require(), Files.createDirectories(dataRoot.resolve("o1")));
        Reply opened = post("/nodes", Map.of("nodeName", "o1", "driver", "qcow2", "file", "o1/top.qcow2"));
        assertThat(opened.status()).as("%s", opened).isEqualTo(201);
        Reply started = post("/jobs/stream", Map.of("jobId", "q1", "device", "o1", "speed", 1024));
        assertThat(started.status()).as("%s", started).isEqualTo(201);

        // during the (throttled) job
        await().atMost(WAIT).untilAsserted(() -> {
            String prom = scrape();
            assertThat(prom)
                    .containsPattern(
                            "(?m)^blockpull_stream_job_copied_bytes\\{[^}]*job_id=\"q1\"[^}]*type=\"stream\"[^}]*} "
                                    + NUMBER_ABOVE_ZERO);
            assertThat(prom)
                    .containsPattern("(?m)^blockpull_stream_chunk_copy_seconds_count(\\{[^}]*})? " + NUMBER_ABOVE_ZERO);
            assertThat(prom).containsPattern("(?m)^blockpull_stream_chunk_copy_seconds_sum(\\{[^}]*})? ");
            assertThat(prom).containsPattern("(?m)^blockpull_stream_chunk_copy_seconds_max(\\{[^}]*})? ");
            assertThat(prom)
                    .containsPattern("(?m)^blockpull_stream_chunk_copy_seconds_bucket\\{[^}]*le=\"0\\.1\"[^}]*} ");
            // inserting the copy-on-read filter ran in a drained section
            assertThat(prom).containsPattern("(?m)^blockpull_drain_seconds_count(\\{[^}]*})? " + NUMBER_ABOVE_ZERO);
            assertThat(prom).containsPattern("(?m)^blockpull_drain_seconds_sum(\\{[^}]*})? ");
            assertThat(prom).containsPattern("(?m)^blockpull_drain_seconds_max(\\{[^}]*})? ");
            // copy-on-read writes into the top image
            assertThat(prom)
                    .containsPattern(
                            "(?m)^blockpull_node_io_bytes_total\\{[^}]*node=\"o1\"[^}]*operation=\"write\"[^}]*} "
                                    + NUMBER_ABOVE_ZERO);
            assertThat(prom)
                    .containsPattern(
                            "(?m)^blockpull_node_io_bytes_total\\{[^}]*node=\"o1\"[^}]*operation=\"read\"[^}]*} ");
            assertThat(prom)
                    .containsPattern(
                            "(?m)^blockpull_node_io_errors_total\\{[^}]*node=\"o1\"[^}]*operation=\"read\"[^}]*} 0\\.0$");
            assertThat(prom)
                    .containsPattern(
                            "(?m)^blockpull_node_io_errors_total\\{[^}]*node=\"o1\"[^}]*operation=\"write\"[^}]*} 0\\.0$");
            // the backing images are read from (their generated names are format nodes too)
            assertThat(prom)
                    .containsPattern(
                            "(?m)^blockpull_node_io_bytes_total\\{[^}]*operation=\"read\"[^}]*} " + NUMBER_ABOVE_ZERO);
        });

        Reply cancelled = post("/jobs/stream/q1/cancel", Map.of());
        assertThat(cancelled.status()).as("%s", cancelled).isLessThan(300);

        // after it: the per-job series goes with the job; the node's series stay while it is open
        await().atMost(WAIT).untilAsserted(() -> {
            String prom = scrape();
            assertThat(prom).doesNotContain("job_id=\"q1\"");
            assertThat(prom)
                    .containsPattern(
                            "(?m)^blockpull_node_io_bytes_total\\{[^}]*node=\"o1\"[^}]*operation=\"write\"[^}]*} "
                                    + NUMBER_ABOVE_ZERO);
            assertThat(prom)
                    .containsPattern("(?m)^blockpull_stream_chunk_copy_seconds_count(\\{[^}]*})? " + NUMBER_ABOVE_ZERO);
            assertThat(prom).containsPattern("(?m)^blockpull_drain_seconds_count(\\{[^}]*})? " + NUMBER_ABOVE_ZERO);
        });

        Reply deleted = Reply.of(client.delete().uri("/nodes/o1").exchange());
        assertThat(deleted.status()).as("%s", deleted).isEqualTo(204);
        await().atMost(WAIT)
                .untilAsserted(() -> assertThat(scrape())
                        .doesNotContainPattern("(?m)^blockpull_node_io_(bytes|errors)_total\\{[^}]*node=\"o1\""));
    }
}
