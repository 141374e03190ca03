package dev.blockpull.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * The jobs page (/ui/) in a real browser, on a service that wants a bearer token: headless Debian
 * chromium, driven by playwright-core from src/test/ui/jobs-page.mjs, types the token in, watches
 * a throttled stream's bar move, pauses and resumes it with the page's buttons, lifts its limit
 * with "Set speed" and sees it complete. The screenshot lands in target/jobs-page.png.
 *
 * <p>The tools it needs: {@link BrowserScripts}.
 */
@BlockpullHttpTest(
        properties = {"blockpull.security.token=" + JobsPageBrowserTests.TOKEN, "blockpull.jobs.progress-interval=200ms"
        })
class JobsPageBrowserTests {

    static final Path SCRIPT = Path.of("src/test/ui/jobs-page.mjs");
    static final Path SCREENSHOT = Path.of("target/jobs-page.png");
    static final String TOKEN = "jobs-page-test-token-0123456789";
    /** 8 MiB of data at 256 KiB/s: a 512 KiB chunk every 2 s, half a minute unless the test lifts it. */
    static final long THROTTLED = 256 * 1024;

    @ServiceDataRoot
    static Path dataRoot;

    @LocalServerPort
    int port;

    @Autowired
    RestTestClient client;

    @Test
    void theBarOfAThrottledStreamMovesAndItsButtonsPauseAndResumeIt() throws Exception {
        BrowserScripts.requireTools();
        QemuTools qemu = QemuTools.require();
        Path vm = Files.createDirectories(dataRoot.resolve("vm"));
        // Data in every cluster of the base: the stream has to copy (and so to throttle) all of it.
        qemu.create(vm.resolve("base.qcow2"), "qcow2", "8M");
        qemu.io(vm.resolve("base.qcow2"), "qcow2", "write -P 0x5a 0 8M");
        qemu.createOverlay(vm.resolve("top.qcow2"), vm.resolve("base.qcow2"));
        post("/nodes", Map.of("nodeName", "top", "driver", "qcow2", "file", "vm/top.qcow2"));
        post("/jobs/stream", Map.of("jobId", "pull1", "device", "top", "speed", THROTTLED));
        Files.createDirectories(SCREENSHOT.getParent());
        Files.deleteIfExists(SCREENSHOT);

        String out = BrowserScripts.run(SCRIPT, "http://localhost:" + port, TOKEN, "pull1", SCREENSHOT.toString());

        assertThat(out).contains("jobs page: bar moved, paused, resumed, completed");
        assertThat(SCREENSHOT).isNotEmptyFile();
    }

    private void post(String uri, Object body) {
        client.post()
                .uri(uri)
                .header("Authorization", "Bearer " + TOKEN)
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange()
                .expectStatus()
                .isCreated();
    }
}
