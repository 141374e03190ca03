package dev.blockpull.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.BlockpullHttpTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes the OpenAPI document to {@code target/openapi.json} and {@code target/openapi.yaml}
 * during the build ({@code ./mvnw verify}), so that clients can be generated without starting the
 * service (README, "Tests and CI"). The document is the one the service serves at
 * {@code /v3/api-docs}, with its {@code servers} entry naming the default address
 * ({@code http://localhost:8080}) rather than this test's random port.
 */
@BlockpullHttpTest
class OpenApiDocumentTests {

    static final Path JSON_FILE = Path.of("target", "openapi.json");
    static final Path YAML_FILE = Path.of("target", "openapi.yaml");

    @Autowired
    RestTestClient client;

    @LocalServerPort
    int port;

    /** The served document, its generated server URL (this test's port) set to the default port. */
    String document(String path) {
        byte[] served = client.get()
                .uri(path)
                .exchange()
                .expectStatus()
                .isOk()
                .returnResult()
                .getResponseBodyContent();
        return new String(served, StandardCharsets.UTF_8).replace("http://localhost:" + port, "http://localhost:8080");
    }

    @Test
    void theDocumentIsWrittenToTargetAsJsonAndYaml() throws IOException {
        Files.createDirectories(JSON_FILE.getParent());
        Files.writeString(JSON_FILE, document("/v3/api-docs"));
        Files.writeString(YAML_FILE, document("/v3/api-docs.yaml"));

        JsonNode written = JsonMapper.builder().build().readTree(JSON_FILE.toFile());
        assertThat(written.get("openapi").asString()).startsWith("3.");
        assertThat(written.at("/servers/0/url").asString()).isEqualTo("http://localhost:8080");
        assertThat(written.get("paths").propertyNames()).contains("/images", "/nodes", "/jobs/stream", "/exports");
        assertThat(Files.readString(YAML_FILE, StandardCharsets.UTF_8))
                .startsWith("openapi: 3.")
                .contains("operationId: startStreamJob");
    }
}
