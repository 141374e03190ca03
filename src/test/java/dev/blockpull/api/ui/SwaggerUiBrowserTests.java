package dev.blockpull.api.ui;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Swagger UI works in a real browser: headless Debian chromium, driven by playwright-core from
 * src/test/ui/swagger-ui.mjs, expands {@code GET /nodes}, clicks "Try it out" and "Execute" and
 * must see a 200. The screenshot lands in target/swagger-ui-get-nodes.png.
 *
 * <p>Needs {@code node}, {@code /usr/bin/chromium} (Debian package chromium) and
 * {@code npm ci --prefix src/test/ui}; .ci/run installs all three. Without them the test is
 * skipped with a message, except when {@code CI=true}, where it fails.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SwaggerUiBrowserTests {

    static final Path SCRIPT = Path.of("src/test/ui/swagger-ui.mjs");
    static final Path PLAYWRIGHT = Path.of("src/test/ui/node_modules/playwright-core");
    static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
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
        requireBrowserTools();
        Files.createDirectories(SCREENSHOT.getParent());
        Files.deleteIfExists(SCREENSHOT);

        Process node = new ProcessBuilder("node", SCRIPT.toString(), "http://localhost:" + port, SCREENSHOT.toString())
                .redirectErrorStream(true).start();
        boolean exited = node.waitFor(2, TimeUnit.MINUTES);
        if (!exited) {
            node.destroyForcibly();
        }
        String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        System.out.println(out);

        assertThat(exited).as("browser test finished within 2 minutes: %s", out).isTrue();
        assertThat(node.exitValue()).as(out).isZero();
        assertThat(out).contains("GET /nodes answered 200 in Swagger UI");
        assertThat(SCREENSHOT).isNotEmptyFile();
    }

    static void requireBrowserTools() {
        List<String> missing = new ArrayList<>();
        if (!onPath("node")) {
            missing.add("node (Node.js)");
        }
        if (!Files.isExecutable(CHROMIUM)) {
            missing.add(CHROMIUM + " (apt-get install chromium)");
        }
        if (!Files.isDirectory(PLAYWRIGHT)) {
            missing.add(PLAYWRIGHT + " (npm ci --prefix src/test/ui)");
        }
        if (missing.isEmpty()) {
            return;
        }
        String message = "Swagger UI browser test needs " + String.join(", ", missing) + "; .ci/run installs them";
        assertThat("true".equals(System.getenv("CI"))).as("CI=true: " + message).isFalse();
        System.err.println("SKIPPED: " + message);
        Assumptions.abort(message);
    }

    static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
