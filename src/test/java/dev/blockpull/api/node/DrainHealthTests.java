package dev.blockpull.api.node;

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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/**
 * The {@code drain} health component with I/O held at the io gate: in-flight requests and drains
 * show, a drain past {@code blockpull.graph.drain-timeout} turns readiness DOWN, and readiness is
 * UP again once the gate opens and the drain completes.
 */
@BlockpullHttpTest(properties = "blockpull.graph.drain-timeout=300ms")
class DrainHealthTests {

    static final Duration WAIT = Duration.ofSeconds(10);

    @ServiceDataRoot
    static Path dataRoot;

    /** Puts a fault-injecting file with a gate under every image the graph opens. */
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
    GatedImages images;

    IoGate gate;

    @AfterEach
    void openGate() {
        if (gate != null) {
            gate.open();
        }
    }

    Reply get(String uri) {
        return Reply.of(client.get().uri(uri).exchange());
    }

    JsonNode drainDetails() {
        return get("/actuator/health").body().get("components").get("drain").get("details");
    }

    @Test
    void aHeldRequestShowsADrainPastItsTimeoutTurnsReadinessDownAndBackUp() throws Exception {
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

        assertThat(drainDetails().get("inFlightRequests").asInt()).isPositive();
        assertThat(get("/actuator/health/readiness").status()).isEqualTo(200);
        assertThat(get("/nodes/top").body().get("inFlightRequests").asInt()).isEqualTo(1);

        CompletableFuture<DrainedSection> drain = CompletableFuture.supplyAsync(() -> graph.drain(top));
        await().atMost(WAIT)
                .untilAsserted(
                        () -> assertThat(drainDetails().get("drainsInProgress").asInt())
                                .isEqualTo(1));
        await().atMost(WAIT)
                .untilAsserted(() ->
                        assertThat(get("/actuator/health/readiness").status()).isEqualTo(503));
        assertThat(get("/actuator/health/readiness")
                        .body()
                        .get("components")
                        .get("drain")
                        .get("status")
                        .asString())
                .isEqualTo("DOWN");
        assertThat(drainDetails().get("oldestInFlightMillis").asLong()).isGreaterThanOrEqualTo(300);
        assertThat(get("/actuator/health/liveness").status())
                .as("busy is no reason to restart")
                .isEqualTo(200);

        gate.open();
        drain.get(10, TimeUnit.SECONDS).close();
        read.get(10, TimeUnit.SECONDS);

        await().atMost(WAIT)
                .untilAsserted(() ->
                        assertThat(get("/actuator/health/readiness").status()).isEqualTo(200));
        assertThat(drainDetails().get("drainsInProgress").asInt()).isZero();
        assertThat(drainDetails().get("inFlightRequests").asInt()).isZero();
        guest.close();
    }
}
