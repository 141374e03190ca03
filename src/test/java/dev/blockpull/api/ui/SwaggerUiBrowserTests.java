package dev.blockpull.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.BlockpullHttpTest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Swagger UI works in a real browser: headless Debian chromium, driven by playwright-core from
 * src/test/ui/swagger-ui.mjs, expands {@code GET /nodes}, clicks "Try it out" and "Execute" and
 * must see a 200. The screenshot lands in target/swagger-ui-get-nodes.png. The tools it needs:
 * {@link BrowserScripts}.
 */
@BlockpullHttpTest
class SwaggerUiBrowserTests {

    static final Path SCRIPT = Path.of("src/test/ui/swagger-ui.mjs");
    static final Path SCREENSHOT = Path.of("target/swagger-ui-get-nodes.png");

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
