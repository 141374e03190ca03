package dev.blockpull.ops.state;

import static dev.blockpull.testsupport.Chains.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceProcess;
import dev.blockpull.testsupport.TestPki;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Restarts of the real service (the application in a child JVM) on one data root: what users
 * asked for comes back, and stream jobs resume and finish by themselves after a SIGKILL or a
 * SIGTERM at any moment, with a clean image of unchanged content (issue 11).
 */
class RestartTests {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration FINISH = Duration.ofSeconds(90);
    /** C1 only and the serial collector: the child starts faster on a small host. */
    private static final List<String> FAST_START = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    @TempDir
    Path dataRoot;

    @TempDir
    Path work;

    QemuTools qemu;
    ServiceProcess service;
    int starts;
    final List<Path> logs = new ArrayList<>();

    @BeforeEach
    void tools() {
        qemu = QemuTools.require();
    }

    @AfterEach
    void stop() {
        if (service != null) {
            service.close();
        }
    }

    // ---------------------------------------------------------------- graph and exports

    @Test
    void nodesSnapshotsAndExportsComeBackAfterASigkill() throws Exception {
        Chain chain = chain("vm", 4 * MIB);
        start();
        created(service.post("/nodes", "{\"nodeName\":\"top\",\"driver\":\"qcow2\",\"file\":\"vm/top.qcow2\"}"));
        created(service.post(
                "/nodes/top/snapshot", "{\"snapshotFile\":\"vm/snap.qcow2\",\"snapshotNodeName\":\"snap\"}"));
        created(service.post("/exports", "{\"id\":\"e1\",\"nodeName\":\"snap\",\"writable\":true}"));
        created(service.post(
                "/nodes",
                "{\"nodeName\":\"gone\",\"driver\":\"qcow2\",\"file\":\"vm/mid.qcow2\","
                        + "\"backing\":null,\"readOnly\":true}"));
        assertThat(service.delete("/nodes/gone").statusCode()).isEqualTo(204);

        service.kill();
        start();

        assertThat(json(service.get("/nodes/snap")).get("backing").asString()).isEqualTo("top");
        assertThat(json(service.get("/nodes/top")).get("readOnly").asBoolean()).isTrue();
        assertThat(json(service.get("/nodes/snap/chain")).size()).isEqualTo(4);
        assertThat(json(service.get("/exports/e1")).get("nodeName").asString()).isEqualTo("snap");
        assertThat(service.get("/nodes/gone").statusCode()).isEqualTo(404);
        assertThat(chain.top()).exists();
    }

    @Test
    void anExportsClientAllowListComesBackAfterASigkill() throws Exception {
        chain("vm", 4 * MIB);
        TestPki.ServerFiles tls =
                TestPki.create(work.resolve("pki"), "restart-ca").server(work.resolve("server"), "blockpull");
        String[] withTls = {
            "--blockpull.nbd.tls.certificate=" + tls.certificate(),
            "--blockpull.nbd.tls.private-key=" + tls.privateKey(),
            "--blockpull.nbd.tls.ca=" + tls.caCertificate()
        };
        start(withTls);
        created(service.post("/nodes", "{\"nodeName\":\"top\",\"driver\":\"qcow2\",\"file\":\"vm/top.qcow2\"}"));
        created(service.post(
                "/exports",
                "{\"id\":\"e1\",\"nodeName\":\"top\",\"allowedClientSubjects\":[\"CN=hypervisor-1,O=Example\"]}"));

        service.kill();
        start(withTls);

        assertThat(json(service.get("/exports/e1")).get("allowedClientSubjects").toString())
                .isEqualTo("[\"CN=hypervisor-1,O=Example\"]");
    }

    @Test
    void aSnapshotWithAGeneratedNameDeletedAfterARestartStaysDeleted() throws Exception {
        chain("vm", 4 * MIB);
        start();
        created(service.post("/nodes", "{\"nodeName\":\"top\",\"driver\":\"qcow2\",\"file\":\"vm/top.qcow2\"}"));
        created(service.post("/nodes/top/snapshot", "{\"snapshotFile\":\"vm/snap.qcow2\"}"));
        service.kill();
        start();
        String overlay = nodeNamed("vm/snap.qcow2");
        assertThat(service.delete("/nodes/" + overlay.replace("#", "%23")).statusCode())
                .isEqualTo(204);

        service.kill();
        start();

        assertThat(json(service.get("/nodes")))
                .noneMatch(n -> "vm/snap.qcow2".equals(n.get("filename").asString()));
        assertThat(json(service.get("/nodes/top")).get("nodeName").asString()).isEqualTo("top");
    }

    @Test
    void theStateDirectoryIsNeitherListedNorReachableByName() throws Exception {
        chain("vm", 4 * MIB);
        start();
        created(service.post("/nodes", "{\"nodeName\":\"top\",\"driver\":\"qcow2\",\"file\":\"vm/top.qcow2\"}"));
        assertThat(dataRoot.resolve(".blockpull/state.json")).exists();

        assertThat(service.get("/images").body()).doesNotContain(".blockpull");
        assertThat(service.get("/images/info?filename=.blockpull/state.json").statusCode())
                .isEqualTo(400);
        assertThat(service.post("/nodes", "{\"nodeName\":\"s\",\"driver\":\"raw\",\"file\":\".blockpull/state.json\"}")
                        .statusCode())
                .isEqualTo(400);
    }

    @Test
    void aCorruptStateFileStopsTheStartNamingItAndIsKeptAside() throws Exception {
        Path state = Files.createDirectories(dataRoot.resolve(".blockpull")).resolve("state.json");
        Files.writeString(state, "{\"version\": 1, \"graph\": [");
        Path log = work.resolve("failed-start.log");

        assertThat(ServiceProcess.startFailing(dataRoot, log, FAST_START, "--blockpull.stream.warm-up=false"))
                .isNotZero();

        assertThat(Files.readString(log))
                .contains("The state file " + state + " cannot be read")
                .contains("Blockpull did not start");
        assertThat(state).doesNotExist();
        try (var aside = Files.list(state.getParent())) {
            assertThat(aside.map(p -> p.getFileName().toString()))
                    .singleElement()
                    .asString()
                    .startsWith("state.json.unreadable-");
        }
        start();
        assertThat(json(service.get("/nodes")).size())
                .as("the next start begins empty")
                .isZero();
    }

    // ---------------------------------------------------------------- jobs

    /** Where a stop lands in the job's life. */
    enum Moment {
        COPYING,
        PAUSED,
        THROTTLED,
        COMPLETION
    }

    /** How the service is stopped. */
    enum Stop {
        SIGKILL,
        SIGTERM
    }

    @Test
    void aStreamKilledAtTwentyTwoSeededMomentsResumesEachTimeAndFinishesByItself() throws Exception {
        streamThroughStops(Stop.SIGKILL, 22, 20261207L, 32 * MIB);
    }

    @Test
    void aStreamStoppedWithSigtermAtTwentySeededMomentsIsParkedResumedAndFinishes() throws Exception {
        streamThroughStops(Stop.SIGTERM, 20, 11L, 64 * MIB);
        assertThat(Files.readString(logs.get(0)))
                .contains("parked for the next start")
                .doesNotContain("did not end");
    }

    @Test
    void twoJobsOnDisjointSegmentsOfOneChainBothResumeAndFinish() throws Exception {
        Chains.Builder b = Chains.in(qemu, createDirectories(dataRoot.resolve("par")))
                .base("n0.qcow2", "qcow2", 8 * MIB)
                .write(0, 8 * MIB, 0x10);
        for (int i = 1; i <= 4; i++) {
            b.overlay("n" + i + ".qcow2").write(i * MIB, 2 * MIB, 0x10 + i);
        }
        Chain chain = b.build();
        Path n2Before = work.resolve("n2.raw");
        Path n4Before = work.resolve("n4.raw");
        qemu.convertToRaw(chain.path("n2.qcow2"), n2Before);
        qemu.convertToRaw(chain.path("n4.qcow2"), n4Before);
        start();
        created(service.post("/nodes", "{\"nodeName\":\"top\",\"driver\":\"qcow2\",\"file\":\"par/n4.qcow2\"}"));
        // Generated names, as a chain opened from its headers has them: found again by file after a restart.
        String n2 = nodeOf("top", "par/n2.qcow2");
        created(service.post(
                "/jobs/stream",
                "{\"jobId\":\"low\",\"device\":\"" + n2 + "\",\"bottom\":\"" + nodeOf("top", "par/n1.qcow2")
                        + "\",\"speed\":262144}"));
        created(service.post(
                "/jobs/stream",
                "{\"jobId\":\"high\",\"device\":\"top\",\"bottom\":\"" + nodeOf("top", "par/n3.qcow2")
                        + "\",\"speed\":262144}"));
        Random random = new Random(5L);
        for (int i = 0; i < 3; i++) {
            awaitProgress("high", 64 * 1024 + random.nextInt(256 * 1024));
            service.kill();
            start();
            assertThat(job("low").get("restarts").asInt()).isEqualTo(i + 1);
            assertThat(job("high").get("restarts").asInt()).isEqualTo(i + 1);
        }
        service.patch("/jobs/stream/low", "{\"speed\":0}");
        service.patch("/jobs/stream/high", "{\"speed\":0}");

        JsonNode low = awaitFinished("low");
        JsonNode high = awaitFinished("high");

        assertThat(low.get("result").asString()).isEqualTo("completed");
        assertThat(high.get("result").asString()).isEqualTo("completed");
        assertThat(backingOf(chain.path("n4.qcow2"))).isEqualTo("n2.qcow2");
        assertThat(backingOf(chain.path("n2.qcow2"))).isEqualTo("n0.qcow2");
        assertCleanWithContent(chain.path("n2.qcow2"), n2Before);
        assertCleanWithContent(chain.path("n4.qcow2"), n4Before);
    }

    @Test
    void aJobWhoseImagesAreGoneFailsSayingWhyAndTheOthersResume() throws Exception {
        Chain lost = chain("lost", 8 * MIB);
        Chain kept = chain("kept", 8 * MIB);
        Path reference = work.resolve("kept.raw");
        qemu.convertToRaw(kept.top(), reference);
        start();
        created(service.post("/nodes", "{\"nodeName\":\"a\",\"driver\":\"qcow2\",\"file\":\"lost/top.qcow2\"}"));
        created(service.post("/nodes", "{\"nodeName\":\"b\",\"driver\":\"qcow2\",\"file\":\"kept/top.qcow2\"}"));
        created(service.post("/jobs/stream", "{\"jobId\":\"a\",\"device\":\"a\",\"speed\":262144}"));
        created(service.post("/jobs/stream", "{\"jobId\":\"b\",\"device\":\"b\",\"speed\":262144}"));
        awaitProgress("a", 1);
        service.kill();
        Files.delete(lost.path("mid.qcow2"));
        start();
        service.patch("/jobs/stream/b", "{\"speed\":0}");

        JsonNode a = job("a");
        assertThat(a.get("status").asString()).isEqualTo("null");
        assertThat(a.get("result").asString()).isEqualTo("failed");
        assertThat(a.get("error").asString())
                .startsWith("Not resumed after a restart: ")
                .contains("lost/top.qcow2")
                .doesNotContain(dataRoot.toString());
        // A client that follows the events from before the restart sees how each job came back.
        List<String> data =
                service.eventLinesUntil(1, line -> line.equals("data:{\"id\":\"b\",\"status\":\"running\"}")).stream()
                        .filter(l -> l.startsWith("data:"))
                        .toList();
        assertThat(data)
                .containsSubsequence(
                        "data:{\"id\":\"b\",\"status\":\"created\"}", "data:{\"id\":\"b\",\"status\":\"running\"}");
        assertThat(data).anyMatch(l -> l.contains("\"device\":\"a\"") && l.contains("Not resumed after a restart"));
        assertThat(data)
                .containsSubsequence(
                        "data:{\"id\":\"a\",\"status\":\"concluded\"}", "data:{\"id\":\"a\",\"status\":\"null\"}");
        assertThat(awaitFinished("b").get("result").asString()).isEqualTo("completed");
        assertThat(backingOf(kept.top())).isNull();
        assertCleanWithContent(kept.top(), reference);
    }

    @Test
    void aJobWhoseCompletionHadHappenedComesBackCompletedNotRedone() throws Exception {
        Chain chain = chain("vm", 8 * MIB);
        start();
        created(service.post("/nodes", "{\"nodeName\":\"top\",\"driver\":\"qcow2\",\"file\":\"vm/top.qcow2\"}"));
        created(service.post(
                "/jobs/stream", "{\"jobId\":\"s1\",\"device\":\"top\",\"base\":\"vm/base.qcow2\",\"speed\":262144}"));
        awaitProgress("s1", 1);
        service.kill();
        // What the completion leaves: the data copied, then the header naming the base.
        qemu.rebase(chain.top(), "base.qcow2", "qcow2");
        start();

        JsonNode s1 = job("s1");
        assertThat(s1.get("status").asString()).isEqualTo("null");
        assertThat(s1.get("result").asString()).isEqualTo("completed");
        assertThat(s1.has("error")).isFalse();
        assertThat(Files.readString(logs.get(1))).contains("had completed before the restart");
        assertThat(json(service.get("/jobs")).size()).isEqualTo(1);
    }

    @Test
    void withResumeOnStartOffSigtermCancelsAndAStartDoesNotResume() throws Exception {
        Chain chain = chain("vm", 8 * MIB);
        start("--blockpull.jobs.resume-on-start=false");
        created(service.post("/nodes", "{\"nodeName\":\"top\",\"driver\":\"qcow2\",\"file\":\"vm/top.qcow2\"}"));
        created(service.post("/jobs/stream", "{\"jobId\":\"s1\",\"device\":\"top\",\"speed\":262144}"));
        awaitProgress("s1", 1);
        assertThat(service.terminate(Duration.ofSeconds(40))).isTrue();
        start("--blockpull.jobs.resume-on-start=false");

        JsonNode s1 = job("s1");
        assertThat(s1.get("status").asString()).isEqualTo("null");
        assertThat(s1.get("result").asString()).isEqualTo("cancelled");
        assertThat(s1.get("error").asString()).contains("resume-on-start is false");
        assertThat(json(service.get("/nodes/top")).get("nodeName").asString()).isEqualTo("top");
        assertThat(backingOf(chain.top())).isEqualTo("mid.qcow2");
    }

    /**
     * One job on a chain of {@code size} bytes, throttled so that the stops land while it copies: at each
     * seeded moment the service is stopped and started again; the job comes back with its id,
     * creation time and arguments (paused if it was), and in the end finishes by itself.
     */
    private void streamThroughStops(Stop stop, int moments, long seed, long size) throws Exception {
        Chain chain = chain("vm", size);
        Path reference = work.resolve("before.raw");
        qemu.convertToRaw(chain.top(), reference);
        start();
        created(service.post("/nodes", "{\"nodeName\":\"top\",\"driver\":\"qcow2\",\"file\":\"vm/top.qcow2\"}"));
        JsonNode first = created(service.post(
                "/jobs/stream", "{\"jobId\":\"s1\",\"device\":\"top\",\"base\":\"vm/base.qcow2\",\"speed\":524288}"));
        Random random = new Random(seed);
        int liveStops = 0;
        for (int i = 0; i < moments; i++) {
            Moment moment =
                    i >= moments - 2 ? Moment.COMPLETION : Moment.values()[random.nextInt(Moment.COMPLETION.ordinal())];
            JsonNode job = job("s1");
            if (job.get("status").asString().equals("null")) {
                break;
            }
            if (job.get("status").asString().equals("paused")) {
                json(service.post("/jobs/stream/s1/resume", ""));
            }
            service.patch("/jobs/stream/s1", "{\"speed\":524288}");
            switch (moment) {
                case COPYING -> awaitProgress("s1", 64 * 1024 + random.nextInt(1024 * 1024));
                case PAUSED -> {
                    service.post("/jobs/stream/s1/pause", "");
                    await().atMost(FINISH)
                            .until(() -> job("s1").get("status").asString().equals("paused"));
                }
                case THROTTLED -> {
                    service.patch("/jobs/stream/s1", "{\"speed\":65536}");
                    awaitProgress("s1", random.nextInt(128 * 1024));
                }
                case COMPLETION -> {
                    service.patch("/jobs/stream/s1", "{\"speed\":0}");
                    long total = job("s1").get("totalProgress").asLong();
                    long left = random.nextInt(2 * (int) MIB);
                    await().atMost(FINISH).until(() -> {
                        JsonNode j = job("s1");
                        return j.get("status").asString().equals("null")
                                || j.get("currentProgress").asLong() >= total - left;
                    });
                }
            }
            boolean live = !job("s1").get("status").asString().equals("null");
            stopService(stop);
            start();
            JsonNode back = job("s1");
            if (live && !back.get("status").asString().equals("null")) {
                liveStops++;
                assertThat(back.get("restarts").asInt())
                        .as("restarts after stop %d (%s)", i, moment)
                        .isEqualTo(liveStops);
                assertThat(back.get("resumedAt").isNull()).isFalse();
                assertThat(back.get("status").asString())
                        .as("status after stop %d (%s)", i, moment)
                        .isEqualTo(moment == Moment.PAUSED ? "paused" : "running");
            }
        }
        if (job("s1").get("status").asString().equals("paused")) {
            json(service.post("/jobs/stream/s1/resume", ""));
        }

        JsonNode done = awaitFinished("s1");

        assertThat(done.get("result").asString()).isEqualTo("completed");
        assertThat(done.get("createdAt").asString())
                .isEqualTo(first.get("createdAt").asString());
        assertThat(liveStops).as("stops that found the job running or paused").isGreaterThanOrEqualTo(moments - 2);
        assertThat(json(service.get("/jobs")))
                .filteredOn(j -> j.get("id").asString().equals("s1"))
                .hasSize(1);
        assertThat(backingOf(chain.top())).isEqualTo("base.qcow2");
        assertCleanWithContent(chain.top(), reference);
    }

    private void stopService(Stop stop) throws InterruptedException {
        if (stop == Stop.SIGKILL) {
            service.kill();
        } else {
            assertThat(service.terminate(Duration.ofSeconds(40)))
                    .as("exits within the graceful timeout")
                    .isTrue();
        }
    }

    private JsonNode job(String id) throws IOException, InterruptedException {
        return json(service.get("/jobs/stream/" + id));
    }

    private void awaitProgress(String id, long bytes) throws IOException, InterruptedException {
        long from = job(id).get("currentProgress").asLong();
        await().atMost(FINISH).until(() -> {
            JsonNode j = job(id);
            return j.get("currentProgress").asLong() >= from + bytes
                    || j.get("status").asString().equals("null");
        });
    }

    private JsonNode awaitFinished(String id) {
        await().atMost(FINISH).until(() -> job(id).get("status").asString().equals("null"));
        try {
            return job(id);
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The name of the format node of {@code file}. */
    private String nodeNamed(String file) throws IOException, InterruptedException {
        for (JsonNode n : json(service.get("/nodes"))) {
            if (file.equals(n.get("filename").asString())
                    && !n.get("driver").asString().equals("file")) {
                return n.get("nodeName").asString();
            }
        }
        throw new AssertionError("no node of " + file);
    }

    /** The (generated) name of the node of {@code file} in the chain of {@code top}. */
    private String nodeOf(String top, String file) throws IOException, InterruptedException {
        for (JsonNode n : json(service.get("/nodes/" + top + "/chain"))) {
            if (file.equals(n.get("filename").asString())
                    && !n.get("driver").asString().equals("file")) {
                return n.get("nodeName").asString();
            }
        }
        throw new AssertionError("no node of " + file);
    }

    private @org.jspecify.annotations.Nullable String backingOf(Path image) {
        JsonNode b = qemu.info(image).get("backing-filename");
        return b == null ? null : b.asString();
    }

    private void assertCleanWithContent(Path image, Path reference) {
        assertThat(qemu.check(image).isClean()).as(qemu.check(image).describe()).isTrue();
        assertThat(qemu.info(image).get("dirty-flag").asBoolean())
                .as("dirty flag")
                .isFalse();
        assertThat(qemu.compare(reference, image).exitCode())
                .as("guest content unchanged")
                .isZero();
    }

    // ---------------------------------------------------------------- helpers

    private Chain chain(String dir, long size) {
        return Chains.in(qemu, createDirectories(dataRoot.resolve(dir)))
                .base("base.qcow2", "qcow2", size)
                .write(0, size, 0x11)
                .overlay("mid.qcow2")
                .write(size / 4, size / 2, 0x22)
                .overlay("top.qcow2")
                .write(size / 2, MIB, 0x33)
                .build();
    }

    private static Path createDirectories(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void start(String... arguments) throws IOException {
        Path log = work.resolve("service-" + (++starts) + ".log");
        logs.add(log);
        List<String> args = new ArrayList<>(List.of("--blockpull.stream.warm-up=false"));
        args.addAll(List.of(arguments));
        service = ServiceProcess.start(dataRoot, log, FAST_START, args.toArray(String[]::new));
    }

    private static JsonNode json(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isLessThan(300);
        return JSON.readTree(response.body());
    }

    private static JsonNode created(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return JSON.readTree(response.body());
    }
}
