package dev.blockpull.cli;

import dev.blockpull.testsupport.ProcessResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI against a service that wants a bearer token: BLOCKPULL_TOKEN carries it. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class CliTokenTests {

    static final String TOKEN = "cli-test-token-0123456789abcdef";

    @TempDir
    static Path dataRoot;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("blockpull.data-root", dataRoot::toString);
        registry.add("blockpull.nbd.port", () -> "0");
        registry.add("blockpull.security.token", () -> TOKEN);
    }

    @LocalServerPort
    int port;

    @Test
    void theTokenComesFromBlockpullToken() {
        ProcessResult r = CliProcess.withEnvironment(Map.of("BLOCKPULL_URL", "http://127.0.0.1:" + port,
                "BLOCKPULL_TOKEN", TOKEN)).run("jobs", "list");

        assertThat(r.exitCode()).as(r.describe()).isZero();
    }

    @Test
    void withoutTheTokenTheServicesRefusalIsExitFive() {
        ProcessResult r = CliProcess.against(port).run("jobs", "list");

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(5);
        assertThat(r.stderr()).contains("401").contains("Authorization: Bearer");
    }
}
