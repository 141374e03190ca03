package dev.blockpull.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.BlockpullHttpTest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/** Actuator and OpenAPI endpoints as deployments and the Helm chart use them. */
@BlockpullHttpTest
class OperationsEndpointsTests {

    @Autowired
    RestTestClient client;

    Reply get(String path) {
        return Reply.of(client.get().uri(path).exchange());
    }

    @Test
    void livenessProbeIsUpWithDetails() {
        Reply r = get("/actuator/health/liveness");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text("status")).isEqualTo("UP");
        assertThat(r.body().get("components").has("livenessState")).isTrue();
    }

    @Test
    void readinessProbeIsUpWithDetails() {
        Reply r = get("/actuator/health/readiness");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text("status")).isEqualTo("UP");
        assertThat(r.body().get("components").has("readinessState")).isTrue();
    }

    @Test
    void healthShowsItsComponents() {
        Reply r = get("/actuator/health");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body().get("components").has("diskSpace")).isTrue();
    }

    @Test
    void prometheusScrapeCarriesTheApplicationTag() {
        Reply r = get("/actuator/prometheus");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.raw()).contains("application=\"blockpull\"");
    }

    @Test
    void metricsAndInfoEndpointsAreExposed() {
        assertThat(get("/actuator/metrics").status()).isEqualTo(200);
        assertThat(get("/actuator/info").status()).isEqualTo(200);
    }

    @Test
    void openApiDocumentHasTheImageOperations() {
        Reply r = get("/v3/api-docs");

        assertThat(r.status()).isEqualTo(200);
        JsonNode paths = r.body().get("paths");
        assertThat(paths.has("/images")).isTrue();
        assertThat(paths.has("/images/info")).isTrue();
        assertThat(operationIds(paths)).contains("createImage", "listImages", "getImageInfo");
        assertThat(paths.get("/images")
                        .get("post")
                        .get("responses")
                        .get("409")
                        .get("content")
                        .has("application/problem+json"))
                .isTrue();
        assertThat(r.body().get("components").get("schemas").has("Problem")).isTrue();
    }

    /** Every path of the HTTP contract (shared/spec/api.md), with an operation id on each operation. */
    @Test
    void openApiDocumentHasEveryContractPathWithOperationIds() {
        JsonNode paths = get("/v3/api-docs").body().get("paths");

        assertThat(paths.propertyNames())
                .contains(
                        "/images",
                        "/images/info",
                        "/nodes",
                        "/nodes/{nodeName}",
                        "/nodes/{nodeName}/chain",
                        "/nodes/{nodeName}/map",
                        "/nodes/{nodeName}/snapshot",
                        "/jobs",
                        "/jobs/stream",
                        "/jobs/stream/{id}",
                        "/jobs/stream/{id}/pause",
                        "/jobs/stream/{id}/resume",
                        "/jobs/stream/{id}/cancel",
                        "/jobs/stream/{id}/finalize",
                        "/jobs/stream/{id}/dismiss",
                        "/jobs/events",
                        "/exports",
                        "/exports/{id}");
        paths.values()
                .forEach(path -> path.values()
                        .forEach(op -> assertThat(op.has("operationId"))
                                .as("operation id of %s", op)
                                .isTrue()));
    }

    @Test
    void swaggerUiIsServed() {
        Reply r = Reply.of(client.get().uri("/swagger-ui/index.html").exchange());

        assertThat(r.status()).isEqualTo(200);
    }

    private static List<String> operationIds(JsonNode paths) {
        List<String> ids = new ArrayList<>();
        paths.values()
                .forEach(path -> path.values().forEach(op -> {
                    if (op.has("operationId")) {
                        ids.add(op.get("operationId").asString());
                    }
                }));
        return ids;
    }
}
