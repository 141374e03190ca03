package dev.blockpull.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.api.Reply;
import dev.blockpull.graph.Attachment;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.DrainedSection;
import dev.blockpull.graph.GatedImages;
import dev.blockpull.graph.Holder;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.graph.Permission;
import dev.blockpull.io.IoGate;
import dev.blockpull.job.Job;
import dev.blockpull.job.JobContext;
import dev.blockpull.job.JobOptions;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * The {@code jobScheduler} liveness component: UP while jobs are busy or drains wait for I/O, DOWN
 * only while a drain has waited past {@code blockpull.jobs.stuck-timeout} and a job still has not
 * reached a pause point.
 */
@BlockpullHttpTest(properties = "blockpull.jobs.stuck-timeout=300ms")
class JobSchedulerHealthTests {

    static final Duration WAIT = Duration.ofSeconds(10);

    @ServiceDataRoot
    static Path dataRoot;

    @TestConfiguration
    static class Gates {
        @Bean
        GatedImages gatedImages() {
            return new GatedImages();
        }
    }

    @Autowired
    RestTestClient client;

    @Autowired
    NodeGraph graph;

    @Autowired
    JobScheduler scheduler;

    @Autowired
    GatedImages images;

    IoGate gate;
    final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void openGates() {
        release.countDown();
        if (gate != null) {
            gate.open();
        }
    }

    Reply get(String uri) {
        return Reply.of(client.get().uri(uri).exchange());
    }

    /** A job whose run never reaches a pause point until released: a wedged job. */
    final class WedgedJob implements Job {
        @Override
        public String type() {
            return "stream";
        }

        @Override
        public void run(JobContext context) throws Exception {
            release.await();
        }
    }

    @Test
    void livenessIncludesTheSchedulerAndIsUpWhenIdle() {
        Reply r = get("/actuator/health/liveness");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body().get("components").get("jobScheduler").get("status").asString())
                .isEqualTo("UP");
    }

    @Test
    void aJobThatMissesItsPausePointWhileADrainWaitsTurnsLivenessDownUntilItMovesOn() throws Exception {
        Chains.baseMidTop(QemuTools.require(), Files.createDirectories(dataRoot.resolve("vm")));
        Reply opened = Reply.of(client.post()
                .uri("/nodes")
                .contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("nodeName", "top", "driver", "qcow2", "file", "vm/top.qcow2"))
                .exchange());
        assertThat(opened.status()).as("%s", opened).isEqualTo(201);
        BlockNode top = graph.get("top");
        Attachment guest = graph.attach(Holder.export("vm1"), top, true, Set.of(), EnumSet.allOf(Permission.class));
        gate = images.gate(dataRoot.resolve("vm/top.qcow2"));
        gate.close();
        CompletableFuture<Void> read =
                CompletableFuture.runAsync(() -> guest.read(768 * 1024, ByteBuffer.allocate(4096)));
        assertThat(gate.awaitWaiting(1, WAIT)).isTrue();
        CompletableFuture<DrainedSection> drain = CompletableFuture.supplyAsync(() -> graph.drain(top));
        await().atMost(WAIT).until(() -> graph.drainStats().longestDrainMillis() > 400);
        assertThat(get("/actuator/health/liveness").status())
                .as("a drain waiting for I/O alone is not stuck")
                .isEqualTo(200);

        scheduler.start(new WedgedJob(), JobOptions.of("wedged", "top"));

        await().atMost(WAIT)
                .untilAsserted(() ->
                        assertThat(get("/actuator/health/liveness").status()).isEqualTo(503));
        assertThat(get("/actuator/health/liveness")
                        .body()
                        .get("components")
                        .get("jobScheduler")
                        .get("details")
                        .get("jobsNotAtPausePoint")
                        .get(0)
                        .asString())
                .isEqualTo("wedged");

        release.countDown();
        await().atMost(WAIT)
                .untilAsserted(() ->
                        assertThat(get("/actuator/health/liveness").status()).isEqualTo(200));
        gate.open();
        drain.get(10, TimeUnit.SECONDS).close();
        read.get(10, TimeUnit.SECONDS);
        guest.close();
    }
}
