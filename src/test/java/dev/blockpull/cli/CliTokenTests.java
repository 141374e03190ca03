package dev.blockpull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.ProcessResult;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/** The CLI against a service that wants a bearer token: BLOCKPULL_TOKEN carries it. */
@BlockpullHttpTest(properties = "blockpull.security.token=" + CliTokenTests.TOKEN)
class CliTokenTests {

    static final String TOKEN = "cli-test-token-0123456789abcdef";

    @LocalServerPort
    int port;

    @Test
    void theTokenComesFromBlockpullToken() {
        ProcessResult r = CliProcess.withEnvironment(
                        Map.of("BLOCKPULL_URL", "http://127.0.0.1:" + port, "BLOCKPULL_TOKEN", TOKEN))
                .run("jobs", "list");

        assertThat(r.exitCode()).as(r.describe()).isZero();
    }

    @Test
    void withoutTheTokenTheServicesRefusalIsExitFive() {
        ProcessResult r = CliProcess.against(port).run("jobs", "list");

        assertThat(r.exitCode()).as(r.describe()).isEqualTo(5);
        assertThat(r.stderr()).contains("401").contains("Authorization: Bearer");
    }
}
