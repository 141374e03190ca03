package dev.blockpull.api.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/**
 * The point of it all: a VM-like client writes through the export while a stream job pulls the
 * chain into the top. Every write is also applied to a raw model; at the end the streamed image,
 * without its backing chain, must equal the model and pass qemu-img check.
 */
@BlockpullHttpTest
class ExportDuringStreamTests {

    static final int NBD_PORT = ExportApi.freePort();
    static final long K = 1024;
    static final long M = 1024 * K;
    /** After the first 512 KiB chunk a job at this speed sleeps for minutes (stream-semantics §7.2). */
    static final long CRAWL = 1024;

    @ServiceDataRoot
    static Path dataRoot;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("blockpull.nbd.port", () -> NBD_PORT);
        registry.add("blockpull.nbd.bind-address", () -> "127.0.0.1");
    }

    @Autowired
    RestTestClient client;

    QemuTools qemu;
    ExportApi api;

    @BeforeEach
    void setUp() {
        qemu = QemuTools.require();
        api = new ExportApi(client, NBD_PORT);
    }

    /**
     * base: 0x11 [0,1M) 0x22 [4M,5M) 0x55 [7M,8M); mid: 0x33 [512K,1.5M) 0x66 [6M,6.5M) zero [5M,5M+64K);
     * top: 0x44 [3M,3.5M). The rest is unallocated everywhere.
     */
    private Path chain(String name) throws Exception {
        Path dir = Files.createDirectories(dataRoot.resolve(name));
        Path base = dir.resolve("base.qcow2");
        Path mid = dir.resolve("mid.qcow2");
        Path top = dir.resolve("top.qcow2");
        qemu.create(base, "qcow2", "8M");
        qemu.createOverlay(mid, base);
        qemu.createOverlay(top, mid);
        qemu.io(base, "qcow2", "write -P 0x11 0 1M", "write -P 0x22 4M 1M", "write -P 0x55 7M 1M");
        qemu.io(mid, "qcow2", "write -P 0x33 512k 1M", "write -P 0x66 6M 512k", "write -z 5M 64k");
        qemu.io(top, "qcow2", "write -P 0x44 3M 512k");
        return top;
    }

    @Test
    void writesAndZeroesThroughTheExportDuringAStreamAreNeverLost() throws Exception {
        Path top = chain("ds");
        Path model = dataRoot.resolve("ds-model.raw");
        qemu.convertToRaw(top, model);
        assertThat(api.post("/nodes", Map.of("nodeName", "ds", "driver", "qcow2", "file", "ds/top.qcow2"))
                        .status())
                .isEqualTo(201);
        assertThat(api.post("/exports", Map.of("id", "dsx", "nodeName", "ds", "writable", true))
                        .status())
                .isEqualTo(201);
        String uri = api.uri("dsx");

        Reply started = api.post("/jobs/stream", Map.of("jobId", "ds-job", "device", "ds", "speed", CRAWL));
        assertThat(started.status()).as("%s", started).isEqualTo(201);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> job("ds-job").get("currentProgress").asLong() > 0);

        long at = job("ds-job").get("currentProgress").asLong();
        List<String> writes = List.of(
                "write -P 0x81 3200k 64k", // in the top already
                "write -P 0x82 6148k 4k", // only in an intermediate, a partial cluster
                "write -z 6400k 64k", // zeroes over intermediate data
                "write -P 0x83 4194404 1000", // only in the base, unaligned
                "write -z 7232k 128k", // zeroes over base data
                "discard 4608k 64k", // trim over base data
                "write -P 0x84 2M 64k", // unallocated in every layer
                "write -P 0x86 128k 8k", // a chunk the job copied already
                "write -P 0x85 " + at + " 64k", // the chunk the job copies next
                "write -z -u " + (at + 64 * K) + " 64k",
                "flush");
        for (String w : writes) {
            ExportApi.io(qemu, uri, w);
            qemu.io(model, "raw", w);
        }
        assertThat(api.get("/nodes/ds").body().get("usedBy").toString()).contains("dsx");
        assertThat(qemu.qemuImg("compare", "-f", "raw", "-F", "raw", uri, model.toString())
                        .exitCode())
                .as("reads during the stream equal the model")
                .isZero();

        // at full speed, writes race the copy loop over every chunk
        List<String> racing = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            racing.add("aio_write -P 0x" + Integer.toHexString(0x90 + i) + " " + (i * 512 * K + i * 4 * K) + " 12k");
        }
        racing.add("aio_flush");
        CompletableFuture<Void> race =
                CompletableFuture.runAsync(() -> ExportApi.io(qemu, uri, racing.toArray(String[]::new)));
        assertThat(api.patch("/jobs/stream/ds-job", "{\"speed\": 0}").status()).isEqualTo(200);
        race.join();
        for (String w : racing) {
            qemu.io(model, "raw", w.replace("aio_write", "write").replace("aio_flush", "flush"));
        }

        await().atMost(Duration.ofSeconds(60)).until(() -> {
            String s = job("ds-job").get("status").asString();
            return s.equals("concluded") || s.equals("null");
        });
        assertThat(job("ds-job").get("result").asString()).isEqualTo("completed");
        assertThat(qemu.qemuImg("compare", "-f", "raw", "-F", "raw", uri, model.toString())
                        .exitCode())
                .as("reads after the stream equal the model")
                .isZero();

        assertThat(api.delete("/exports/dsx").status()).isEqualTo(204);
        assertThat(api.delete("/nodes/ds").status()).isEqualTo(204);
        assertThat(qemu.info(top).has("backing-filename"))
                .as("the chain is gone")
                .isFalse();
        assertThat(qemu.compare(top, model).exitCode())
                .as("the image equals the model")
                .isZero();
        assertThat(qemu.check(top).isClean()).isTrue();
    }

    private JsonNode job(String id) {
        Reply r = api.get("/jobs/stream/" + id);
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        return r.body();
    }
}
