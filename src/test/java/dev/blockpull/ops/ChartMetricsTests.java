package dev.blockpull.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.AlertRules;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.Qcow2Surgery;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every metric the Helm chart queries is one the service exposes: each name in a panel of the
 * Grafana dashboard (helm/blockpull/dashboards/blockpull.json) and in an alert of the chart's
 * PrometheusRule must show up in a real scrape of {@code /actuator/prometheus}, taken while one
 * stream job runs and after another failed on an I/O error. A renamed metric or a typo in a query
 * fails here instead of as an empty panel or an alert that never fires.
 */
@BlockpullHttpTest(shared = false)
class ChartMetricsTests {

    static final Path DASHBOARD = Path.of("helm", "blockpull", "dashboards", "blockpull.json");
    static final Pattern METRIC = Pattern.compile("\\bblockpull_[a-z_]+");
    static final Duration WAIT = Duration.ofSeconds(30);

    @ServiceDataRoot
    static Path dataRoot;

    @Autowired
    RestTestClient client;

    @Test
    void everyMetricTheDashboardPlotsIsExposed() throws Exception {
        String slow = failOneJobAndStartASlowOne("d");

        Set<String> plotted = plottedMetrics();
        assertThat(plotted)
                .contains(
                        "blockpull_jobs_finished_total",
                        "blockpull_job_io_errors_total",
                        "blockpull_drain_longest_wait_seconds");
        await().atMost(WAIT).untilAsserted(() -> {
            String scrape = get("/actuator/prometheus").raw();
            assertThat(plotted)
                    .allSatisfy(metric -> assertThat(scrape).as(metric).containsPattern("(?m)^" + metric + "[{ ]"));
            assertThat(scrape)
                    .containsPattern(
                            "(?m)^blockpull_jobs_finished_total\\{[^}]*result=\"failed\"[^}]*} [1-9][0-9]*\\.0$");
            assertThat(scrape)
                    .containsPattern(
                            "(?m)^blockpull_job_io_errors_total\\{[^}]*action=\"report\"[^}]*} [1-9][0-9]*\\.0$");
        });
        post("/jobs/stream/" + slow + "/cancel", Map.of());
    }

    @Test
    void everyMetricTheAlertsQueryIsExposed() throws Exception {
        String slow = failOneJobAndStartASlowOne("a");

        Set<String> queried = AlertRules.render(Map.of()).metricNames();
        assertThat(queried).contains("blockpull_job_status", "blockpull_node_io_errors_total", "disk_free_bytes");
        await().atMost(WAIT).untilAsserted(() -> {
            String scrape = get("/actuator/prometheus").raw();
            assertThat(queried)
                    .allSatisfy(metric -> assertThat(scrape).as(metric).containsPattern("(?m)^" + metric + "[{ ]"));
        });
        post("/jobs/stream/" + slow + "/cancel", Map.of());
    }

    /**
     * One stream job failed on a read error, one running at 1 KiB/s (so every per-job and per-node
     * series exists); returns the running job's id.
     */
    String failOneJobAndStartASlowOne(String prefix) throws Exception {
        QemuTools qemu = QemuTools.require();
        String bad = prefix + "bad";
        String slow = prefix + "slow";
        Chain failing = Chains.baseMidTop(qemu, Files.createDirectories(dataRoot.resolve(bad)));
        // The base's first data cluster lies past the end of its file: the job meets a read error.
        Qcow2Surgery.setL2Entry(failing.base(), 0, Qcow2Surgery.OFLAG_COPIED | (1L << 40));
        post("/nodes", Map.of("nodeName", bad, "driver", "qcow2", "file", bad + "/top.qcow2"));
        post("/jobs/stream", Map.of("jobId", bad, "device", bad));
        await().atMost(WAIT)
                .until(() -> "failed".equals(get("/jobs/stream/" + bad).text("result")));
        Chains.baseMidTop(qemu, Files.createDirectories(dataRoot.resolve(slow)));
        post("/nodes", Map.of("nodeName", slow, "driver", "qcow2", "file", slow + "/top.qcow2"));
        post("/jobs/stream", Map.of("jobId", slow, "device", slow, "speed", 1024));
        return slow;
    }

    static Set<String> plottedMetrics() {
        JsonNode dashboard = JsonMapper.builder().build().readTree(DASHBOARD.toFile());
        Set<String> metrics = new TreeSet<>();
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                Matcher m = METRIC.matcher(target.get("expr").asString());
                while (m.find()) {
                    metrics.add(m.group());
                }
            }
        }
        return metrics;
    }

    Reply get(String uri) {
        return Reply.of(client.get().uri(uri).exchange());
    }

    void post(String uri, Object body) {
        Reply r = Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange());
        assertThat(r.status()).as("%s", r).isBetween(200, 202);
    }
}
