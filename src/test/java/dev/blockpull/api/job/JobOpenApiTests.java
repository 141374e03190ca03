package dev.blockpull.api.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/** The job endpoints in {@code /v3/api-docs}: paths, operation ids, media types, problem responses. */
@BlockpullHttpTest
class JobOpenApiTests {

    @Autowired
    RestTestClient client;

    JsonNode paths() {
        Reply r = Reply.of(client.get().uri("/v3/api-docs").exchange());
        assertThat(r.status()).isEqualTo(200);
        return r.body().get("paths");
    }

    @Test
    void everyJobPathOfTheContractIsDocumented() {
        JsonNode paths = paths();

        for (String p : List.of(
                "/jobs",
                "/jobs/stream",
                "/jobs/stream/{id}",
                "/jobs/stream/{id}/pause",
                "/jobs/stream/{id}/resume",
                "/jobs/stream/{id}/cancel",
                "/jobs/stream/{id}/finalize",
                "/jobs/stream/{id}/dismiss",
                "/jobs/events")) {
            assertThat(paths.has(p)).as(p).isTrue();
        }
    }

    @Test
    void everyJobOperationHasItsOperationId() {
        List<String> ids = new ArrayList<>();
        paths().values()
                .forEach(path -> path.values().forEach(op -> {
                    if (op.has("operationId")) {
                        ids.add(op.get("operationId").asString());
                    }
                }));

        assertThat(ids)
                .contains(
                        "startStreamJob",
                        "listStreamJobs",
                        "getStreamJob",
                        "setStreamJobSpeed",
                        "pauseStreamJob",
                        "resumeStreamJob",
                        "cancelStreamJob",
                        "finalizeStreamJob",
                        "dismissStreamJob",
                        "listJobs",
                        "streamJobEvents");
    }

    @Test
    void theDryRunIsDocumentedWithItsAnswerAndTheStartsProblems() {
        JsonNode plan = paths().get("/jobs/stream/plan").get("post");

        assertThat(plan.get("operationId").asString()).isEqualTo("planStreamJob");
        assertThat(plan.get("responses").has("200")).isTrue();
        for (String status : List.of("400", "404", "409")) {
            assertThat(plan.get("responses").get(status).get("content").has("application/problem+json"))
                    .as(status)
                    .isTrue();
        }
        assertThat(plan.get("responses").get("200").get("content").toString()).contains("StreamPlan");
    }

    @Test
    void theEventStreamIsDeclaredAsTextEventStream() {
        JsonNode ok = paths().get("/jobs/events")
                .get("get")
                .get("responses")
                .get("200")
                .get("content");

        assertThat(ok.has("text/event-stream")).isTrue();
    }

    @Test
    void verbsDocumentTheirSuccessCodesAndProblems() {
        JsonNode paths = paths();

        assertThat(paths.get("/jobs/stream").get("post").get("responses").has("201"))
                .isTrue();
        assertThat(paths.get("/jobs/stream/{id}/pause")
                        .get("post")
                        .get("responses")
                        .has("202"))
                .isTrue();
        assertThat(paths.get("/jobs/stream/{id}/cancel")
                        .get("post")
                        .get("responses")
                        .has("202"))
                .isTrue();
        assertThat(paths.get("/jobs/stream/{id}/resume")
                        .get("post")
                        .get("responses")
                        .has("200"))
                .isTrue();
        assertThat(paths.get("/jobs/stream/{id}/pause")
                        .get("post")
                        .get("responses")
                        .get("409")
                        .get("content")
                        .has("application/problem+json"))
                .isTrue();
        assertThat(paths.get("/jobs/stream/{id}")
                        .get("patch")
                        .get("requestBody")
                        .get("content")
                        .has("application/merge-patch+json"))
                .isTrue();
    }
}
