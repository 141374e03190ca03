package dev.blockpull.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM on a real process while a throttled stream job runs: the service exits within the
 * graceful timeout, the job is parked at a pause point (for the next start, see RestartTests),
 * and the image is clean, not dirty, still names its old backing file and shows the same guest
 * content as before (issue "Health and lifecycle").
 */
class GracefulShutdownTests {

    @TempDir
    Path dataRoot;

    @TempDir
    Path work;

    ServiceProcess service;

    @AfterEach
    void kill() {
        if (service != null) {
            service.close();
        }
    }

    @Test
    void sigtermDuringAThrottledStreamLeavesACleanImageWithItsContent() throws Exception {
        QemuTools qemu = QemuTools.require();
        Chain chain = Chains.baseMidTop(qemu, Files.createDirectories(dataRoot.resolve("vm")));
        Path reference = work.resolve("ref.raw");
        qemu.convertToRaw(chain.top(), reference);
        Path log = work.resolve("service.log");
        service = ServiceProcess.start(dataRoot, log);
        assertThat(service.post("/nodes", "{\"nodeName\":\"top\",\"driver\":\"qcow2\",\"file\":\"vm/top.qcow2\"}")
                        .statusCode())
                .isEqualTo(201);
        assertThat(service.post("/jobs/stream", "{\"jobId\":\"s1\",\"device\":\"top\",\"speed\":1024}")
                        .statusCode())
                .isEqualTo(201);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> service.get("/jobs/stream/s1")
                        .body()
                        .matches(".*\"status\":\"running\".*\"currentProgress\":[1-9].*"));

        service.process().destroy(); // SIGTERM

        assertThat(service.process().waitFor(40, TimeUnit.SECONDS))
                .as("exits within the graceful timeout")
                .isTrue();
        assertThat(qemu.check(chain.top()).isClean())
                .as(qemu.check(chain.top()).describe())
                .isTrue();
        assertThat(qemu.info(chain.top()).get("dirty-flag").asBoolean())
                .as("dirty flag")
                .isFalse();
        assertThat(qemu.info(chain.top()).get("backing-filename").asString()).isEqualTo("mid.qcow2");
        assertThat(qemu.compare(reference, chain.top()).exitCode())
                .as("guest content unchanged")
                .isZero();
        assertThat(Files.readString(log)).contains("Job scheduler stopped").doesNotContain("did not end");
    }
}
