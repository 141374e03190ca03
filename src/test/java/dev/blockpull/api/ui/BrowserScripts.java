package dev.blockpull.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The node scripts of src/test/ui (playwright-core driving Debian's chromium): the tools they
 * need, and a run that must end with exit code 0 within two minutes.
 *
 * <p>Needs {@code node}, {@code /usr/bin/chromium} (Debian package chromium) and
 * {@code npm ci --prefix src/test/ui}; .ci/run installs all three. Without them a test is skipped
 * with a message, except when {@code CI=true}, where it fails.
 */
final class BrowserScripts {

    static final Path PLAYWRIGHT = Path.of("src/test/ui/node_modules/playwright-core");
    static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));

    private BrowserScripts() {}

    /** Runs {@code node script args...}; returns what it printed once it has exited 0. */
    static String run(Path script, String... args) throws Exception {
        requireTools();
        List<String> command = new ArrayList<>(List.of("node", script.toString()));
        command.addAll(List.of(args));
        Process node = new ProcessBuilder(command).redirectErrorStream(true).start();
        boolean exited = node.waitFor(2, TimeUnit.MINUTES);
        if (!exited) {
            node.destroyForcibly();
        }
        String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        System.out.println(out);

        assertThat(exited).as("browser test finished within 2 minutes: %s", out).isTrue();
        assertThat(node.exitValue()).as(out).isZero();
        return out;
    }

    static void requireTools() {
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
        String message = "Browser tests need " + String.join(", ", missing) + "; .ci/run installs them";
        assertThat("true".equals(System.getenv("CI"))).as("CI=true: " + message).isFalse();
        System.err.println("SKIPPED: " + message);
        Assumptions.abort(message);
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
