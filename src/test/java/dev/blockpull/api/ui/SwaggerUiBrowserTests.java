package dev.blockpull.api.ui;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Swagger UI works in a real browser: headless Debian chromium, driven by playwright-core from
 * src/test/ui/swagger-ui.mjs, expands {@code GET /nodes}, clicks "Try it out" and "Execute" and
 * must see a 200. The screenshot lands in target/swagger-ui-get-nodes.png. The tools it needs:
 * {@link BrowserScripts}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SwaggerUiBrowserTests {

    static final Path SCRIPT = Path.of("src/test/ui/swagger-ui.mjs");
    static final Path SCREENSHOT = Path.of("target/swagger-ui-get-nodes.png");

    @TempDir
    static Path dataRoot;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("blockpull.data-root", dataRoot::toString);
        registry.add("blockpull.nbd.port", () -> "0");
    }

    @LocalServerPort
    int port;

    @Test
    void getNodesExecutedInSwaggerUiAnswers200() throws Exception {
        Files.createDirectories(SCREENSHOT.getParent());
        Files.deleteIfExists(SCREENSHOT);

        String out = BrowserScripts.run(SCRIPT, "http://localhost:" + port, SCREENSHOT.toString());

        assertThat(out).contains("GET /nodes answered 200 in Swagger UI");
        assertThat(SCREENSHOT).isNotEmptyFile();
    }
}
