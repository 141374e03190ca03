package dev.blockpull.api.job;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code /jobs/events}: QMP events as SSE, in QEMU's order, with Last-Event-ID replay. */
@BlockpullHttpTest(properties = {"blockpull.jobs.events-heartbeat=200ms", "blockpull.jobs.progress-interval=100ms"})
class JobEventsTests {

    @ServiceDataRoot
    static Path dataRoot;

    @LocalServerPort
    int port;

    @Autowired
    RestTestClient client;

    JobApi api;

    @BeforeEach
    void api() {
        api = new JobApi(client, dataRoot);
    }

    @Test
    void theStreamIsServedAsTextEventStream() throws Exception {
        try (SseClient sse = SseClient.open(port, null)) {
            assertThat(sse.response.statusCode()).isEqualTo(200);
            assertThat(sse.response.headers().firstValue("Content-Type"))
                    .get()
                    .asString()
                    .startsWith("text/event-stream");
        }
    }

    @Test
    void aSuccessfulJobEmitsQemusStatusSequenceAndBlockJobCompleted() throws Exception {
        api.openChain("e1");
        try (SseClient sse = SseClient.open(port, null)) {
            api.start(Map.of("jobId", "s1", "device", "e1"));

            await().atMost(JobApi.WAIT)
                    .untilAsserted(() -> assertThat(sse.statusesOf("s1"))
                            .containsExactly("created", "running", "waiting", "pending", "concluded", "null"));
            SseClient.Event completed = sse.eventsOf("s1").stream()
                    .filter(e -> e.name().equals("BLOCK_JOB_COMPLETED"))
                    .findFirst()
                    .orElseThrow();
            assertThat(completed.data())
                    .isEqualTo("{\"type\":\"stream\",\"device\":\"s1\",\"len\":4194304,"
                            + "\"offset\":4194304,\"speed\":0}");
            List<String> order = sse.eventsOf("s1").stream()
                    .map(e -> e.name().equals("JOB_STATUS_CHANGE")
                            ? e.data().replaceAll(".*\"status\":\"([a-z]+)\".*", "$1")
                            : e.name())
                    .toList();
            assertThat(order.indexOf("BLOCK_JOB_COMPLETED"))
                    .as("completed just before concluded: %s", order)
                    .isLessThan(order.indexOf("concluded"))
                    .isGreaterThan(order.indexOf("pending"));
        }
    }

    @Test
    void eventIdsIncreaseAndStatusChangesCarryIdAndStatus() throws Exception {
        api.openChain("e2");
        try (SseClient sse = SseClient.open(port, null)) {
            api.start(Map.of("jobId", "s2", "device", "e2"));
            await().atMost(JobApi.WAIT).until(() -> sse.statusesOf("s2").contains("null"));

            List<SseClient.Event> events = sse.eventsOf("s2");
            for (int i = 1; i < events.size(); i++) {
                assertThat(events.get(i).id()).isGreaterThan(events.get(i - 1).id());
            }
            assertThat(events.get(0).data()).isEqualTo("{\"id\":\"s2\",\"status\":\"created\"}");
        }
    }

    @Test
    void aReconnectWithLastEventIdReplaysWhatFollowed() throws Exception {
        api.openChain("e3");
        long firstId;
        List<SseClient.Event> seen;
        try (SseClient sse = SseClient.open(port, null)) {
            api.start(Map.of("jobId", "s3", "device", "e3"));
            await().atMost(JobApi.WAIT).until(() -> sse.statusesOf("s3").contains("null"));
            seen = sse.eventsOf("s3");
            firstId = seen.get(0).id();
        }

        try (SseClient replay = SseClient.open(port, firstId)) {
            await().atMost(JobApi.WAIT)
                    .untilAsserted(() ->
                            assertThat(replay.eventsOf("s3")).containsExactlyElementsOf(seen.subList(1, seen.size())));
        }
    }

    @Test
    void pauseAndResumeShowAsStatusChanges() throws Exception {
        api.openChain("e4");
        try (SseClient sse = SseClient.open(port, null)) {
            api.startCrawling("s4", "e4");
            api.post("/jobs/stream/s4/pause");
            api.awaitStatus("s4", "paused");
            api.post("/jobs/stream/s4/resume");
            api.post("/jobs/stream/s4/cancel");

            await().atMost(JobApi.WAIT)
                    .untilAsserted(() -> assertThat(sse.statusesOf("s4"))
                            .containsExactly(
                                    "created", "running", "paused", "running", "aborting", "concluded", "null"));
            assertThat(sse.eventsOf("s4")).extracting(SseClient.Event::name).contains("BLOCK_JOB_CANCELLED");
        }
    }

    @Test
    void anIdleStreamGetsKeepAliveComments() throws Exception {
        try (SseClient sse = SseClient.open(port, null)) {
            await().atMost(JobApi.WAIT).until(() -> sse.comments.contains("keep-alive"));
        }
    }

    @Test
    void aLastEventIdThatIsNoNumberIs400() {
        Reply r = Reply.of(
                client.get().uri("/jobs/events").header("Last-Event-ID", "abc").exchange());

        assertProblem(r, 400);
    }

    /** 4 MiB at this speed: about two seconds, so a 100 ms progress interval shows several events. */
    static final long THROTTLED = 2 * 1024 * 1024;

    static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void aRunningJobEmitsProgressWithOffsetLenRateAndEta() throws Exception {
        api.openChain("p1");
        try (SseClient sse = SseClient.open(port, null)) {
            api.start(Map.of("jobId", "p1", "device", "p1", "speed", THROTTLED));
            await().atMost(JobApi.WAIT).until(() -> sse.statusesOf("p1").contains("null"));

            List<JsonNode> progress = sse.progressOf("p1").stream()
                    .map(e -> JSON.readTree(e.data()))
                    .toList();
            assertThat(progress).hasSizeGreaterThanOrEqualTo(2);
            assertThat(progress).allSatisfy(p -> {
                assertThat(p.get("len").asLong()).isEqualTo(4194304);
                assertThat(p.get("offset").asLong()).isBetween(1L, 4194304L);
                assertThat(p.get("bytesPerSecond").asLong()).isPositive();
                assertThat(p.get("etaSeconds").isIntegralNumber()).isTrue();
            });
            assertThat(progress).extracting(p -> p.get("offset").asLong()).isSorted();
        }
    }

    @Test
    void progressComesBetweenRunningAndWaiting() throws Exception {
        api.openChain("p2");
        try (SseClient sse = SseClient.open(port, null)) {
            api.start(Map.of("jobId", "p2", "device", "p2", "speed", THROTTLED));
            await().atMost(JobApi.WAIT).until(() -> sse.statusesOf("p2").contains("null"));

            List<String> names = sse.events.stream()
                    .filter(e -> e.data().contains("\"p2\""))
                    .map(e -> e.name().equals("JOB_STATUS_CHANGE")
                            ? e.data().replaceAll(".*\"status\":\"([a-z]+)\".*", "$1")
                            : e.name())
                    .toList();
            assertThat(names.indexOf("JOB_PROGRESS")).as("%s", names).isGreaterThan(names.indexOf("running"));
            assertThat(names.lastIndexOf("JOB_PROGRESS")).as("%s", names).isLessThan(names.indexOf("waiting"));
        }
    }

    @Test
    void aJobIdFilterKeepsOnlyThatJobsEvents() throws Exception {
        api.openChain("f1");
        api.openChain("f2");
        try (SseClient sse = SseClient.open(port, null, "?jobId=f1")) {
            api.start(Map.of("jobId", "f2", "device", "f2"));
            api.start(Map.of("jobId", "f1", "device", "f1"));
            await().atMost(JobApi.WAIT).until(() -> sse.statusesOf("f1").contains("null"));
            api.awaitStatus("f2", "null");

            assertThat(sse.events)
                    .isNotEmpty()
                    .allSatisfy(e -> assertThat(e.data()).contains("\"f1\""));
        }
    }

    @Test
    void aTypeFilterKeepsOnlyThoseEventNames() throws Exception {
        api.openChain("f3");
        try (SseClient sse = SseClient.open(port, null, "?type=BLOCK_JOB_COMPLETED,JOB_PROGRESS&jobId=f3")) {
            api.start(Map.of("jobId", "f3", "device", "f3", "speed", THROTTLED));
            await().atMost(JobApi.WAIT)
                    .until(() -> sse.events.stream().anyMatch(e -> e.name().equals("BLOCK_JOB_COMPLETED")));

            assertThat(sse.events)
                    .extracting(SseClient.Event::name)
                    .contains("JOB_PROGRESS")
                    .containsOnly("JOB_PROGRESS", "BLOCK_JOB_COMPLETED");
        }
    }

    @Test
    void anUnknownEventTypeIs400() {
        Reply r = Reply.of(client.get().uri("/jobs/events?type=JOB_PROGRES").exchange());

        assertProblem(r, 400);
        assertThat(r.text("detail")).contains("JOB_PROGRES").contains("JOB_PROGRESS");
    }

    @Test
    void aReplayKeepsEveryStatusChangeAndOnlyTheLatestProgress() throws Exception {
        api.openChain("r1");
        List<SseClient.Event> live;
        try (SseClient sse = SseClient.open(port, null, "?jobId=r1")) {
            api.start(Map.of("jobId", "r1", "device", "r1", "speed", THROTTLED));
            await().atMost(JobApi.WAIT).until(() -> sse.statusesOf("r1").contains("null"));
            live = List.copyOf(sse.events);
        }
        List<SseClient.Event> liveProgress =
                live.stream().filter(e -> e.name().equals("JOB_PROGRESS")).toList();
        assertThat(liveProgress).hasSizeGreaterThanOrEqualTo(2);

        try (SseClient replay = SseClient.open(port, 0L, "?jobId=r1")) {
            await().atMost(JobApi.WAIT).until(() -> replay.statusesOf("r1").contains("null"));

            assertThat(replay.eventsOf("r1"))
                    .containsExactlyElementsOf(live.stream()
                            .filter(e -> !e.name().equals("JOB_PROGRESS"))
                            .toList());
            assertThat(replay.progressOf("r1")).containsExactly(liveProgress.get(liveProgress.size() - 1));
        }
    }

    @Test
    void aReplayHonoursTheFilters() throws Exception {
        api.openChain("r2");
        api.start(Map.of("jobId", "r2", "device", "r2"));
        api.awaitStatus("r2", "null");

        try (SseClient replay = SseClient.open(port, 0L, "?jobId=r2&type=JOB_STATUS_CHANGE")) {
            await().atMost(JobApi.WAIT)
                    .untilAsserted(() -> assertThat(replay.statusesOf("r2"))
                            .containsExactly("created", "running", "waiting", "pending", "concluded", "null"));
            assertThat(replay.events).extracting(SseClient.Event::name).containsOnly("JOB_STATUS_CHANGE");
        }
    }
}
