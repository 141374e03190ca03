package dev.blockpull.api.job;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/**
 * {@code /jobs/stream} and {@code /jobs} over a real port, with real images and the real stream
 * job: status codes, headers, bodies and problems of every endpoint and verb.
 */
@BlockpullHttpTest(shared = false)
class StreamJobApiTests {

    @ServiceDataRoot
    static Path dataRoot;

    @Autowired
    RestTestClient client;

    JobApi api;

    @BeforeEach
    void api() {
        api = new JobApi(client, dataRoot);
    }

    @Test
    void startAnswers201WithLocationETagAndTheJob() throws Exception {
        api.openChain("c1");

        Reply r = api.startCrawling("j1", "c1");

        assertThat(r.headers().getLocation()).hasToString("/jobs/stream/j1");
        assertThat(r.headers().getETag()).matches("\"\\d+-\\d+\"");
        assertThat(r.text("id")).isEqualTo("j1");
        assertThat(r.text("type")).isEqualTo("stream");
        assertThat(r.text("device")).isEqualTo("c1");
        assertThat(r.text("status")).isEqualTo("running");
        assertThat(r.body().get("speed").asLong()).isEqualTo(JobApi.CRAWL);
        assertThat(r.body().has("error")).as("no error member while not failed").isFalse();
        api.post("/jobs/stream/j1/cancel");
    }

    @Test
    void aJobBodyCarriesEveryContractField() throws Exception {
        api.openChain("c2");
        api.startCrawling("j2", "c2");

        JsonNode job = api.get("/jobs/stream/j2").body();

        assertThat(fieldNames(job))
                .contains(
                        "id",
                        "type",
                        "status",
                        "device",
                        "currentProgress",
                        "totalProgress",
                        "offset",
                        "len",
                        "speed",
                        "busy",
                        "paused",
                        "ioStatus",
                        "ready",
                        "result",
                        "bytesPerSecond",
                        "etaSeconds",
                        "createdAt",
                        "finishedAt",
                        "autoFinalize",
                        "autoDismiss",
                        "restarts",
                        "resumedAt");
        assertThat(job.get("restarts").asInt())
                .as("a job that never saw a restart")
                .isZero();
        assertThat(job.get("resumedAt").isNull()).isTrue();
        assertThat(job.get("offset").asLong())
                .isEqualTo(job.get("currentProgress").asLong());
        assertThat(job.get("len").asLong()).isEqualTo(job.get("totalProgress").asLong());
        assertThat(job.get("ioStatus").asString()).isEqualTo("ok");
        api.post("/jobs/stream/j2/cancel");
    }

    @Test
    void aRunningJobAnswersWithRetryAfterAndETag() throws Exception {
        api.openChain("c3");
        api.startCrawling("j3", "c3");

        Reply r = api.get("/jobs/stream/j3");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers().getFirst("Retry-After")).isEqualTo("1");
        assertThat(r.headers().getETag()).isNotBlank();
        api.post("/jobs/stream/j3/cancel");
    }

    @Test
    void aFinishedJobStaysReadableWithItsResultAndWithoutRetryAfter() throws Exception {
        Chain chain = api.openChain("c4");
        api.start(Map.of("jobId", "j4", "device", "c4"));

        Reply r = api.awaitStatus("j4", "null");

        assertThat(r.text("result")).isEqualTo("completed");
        assertThat(r.body().has("error")).isFalse();
        assertThat(r.body().get("currentProgress").asLong())
                .isEqualTo(chain.layer("top.qcow2").size());
        assertThat(r.text("finishedAt")).isNotBlank();
        assertThat(r.headers().getFirst("Retry-After")).isNull();
    }

    @Test
    void theDefaultJobIdIsTheDeviceNodeName() throws Exception {
        api.openChain("c5");

        Reply r = api.start(Map.of("device", "c5", "speed", JobApi.CRAWL));

        assertThat(r.text("id")).isEqualTo("c5");
        assertThat(r.headers().getLocation()).hasToString("/jobs/stream/c5");
        api.post("/jobs/stream/c5/cancel");
    }

    @Test
    void anUnknownFieldIs400() {
        Reply r = api.post("/jobs/stream", Map.of("device", "top", "baseNod", "x"));

        assertProblem(r, 400, "unknown-field");
        assertThat(r.text("detail")).contains("baseNod");
    }

    @Test
    void aMissingDeviceIs400() {
        Reply r = api.post("/jobs/stream", Map.of("jobId", "x"));

        assertProblem(r, 400);
        assertThat(r.text("detail")).contains("Parameter 'device' is missing");
    }

    @Test
    void anUnknownOnErrorValueIs400() {
        Reply r = api.post("/jobs/stream", Map.of("device", "top", "onError", "explode"));

        assertProblem(r, 400);
        assertThat(r.text("detail")).contains("onError").contains("report, ignore, stop, enospc");
    }

    @Test
    void aNegativeSpeedIs400WithQemusMessage() throws Exception {
        api.openChain("c6");

        Reply r = api.post("/jobs/stream", Map.of("device", "c6", "speed", -1));

        assertProblem(r, 400);
        assertThat(r.text("detail")).isEqualTo("Parameter 'speed' expects a non-negative value");
        assertThat(api.get("/jobs/stream/c6").status()).as("nothing created").isEqualTo(404);
    }

    @Test
    void anUnknownDeviceIs404WithQemusMessage() {
        Reply r = api.post("/jobs/stream", Map.of("device", "nope"));

        assertProblem(r, 404);
        assertThat(r.text("detail")).isEqualTo("Cannot find device='nope' nor node-name='nope'");
    }

    @Test
    void aJobIdInUseIs409() throws Exception {
        api.openChain("c7");
        api.openChain("c7b");
        api.startCrawling("j7", "c7");

        Reply r = api.post("/jobs/stream", Map.of("jobId", "j7", "device", "c7b"));

        assertProblem(r, 409);
        assertThat(r.text("detail")).isEqualTo("Job ID 'j7' already in use");
        api.post("/jobs/stream/j7/cancel");
    }

    @Test
    void anUnknownJobIs404() {
        assertProblem(api.get("/jobs/stream/nope"), 404);
        assertProblem(api.post("/jobs/stream/nope/pause"), 404);
        assertProblem(api.patch("/jobs/stream/nope", MediaType.APPLICATION_JSON, "{\"speed\":1}", null), 404);
    }

    @Test
    void aVerbOnAnUnknownJobCarriesQmpsDeviceNotActiveClass() {
        Reply r = api.post("/jobs/stream/nope/pause");

        assertProblem(r, 404);
        assertThat(r.text("errorClass")).isEqualTo("DeviceNotActive");
    }

    @Test
    void pauseAnswers202AndTheJobParks() throws Exception {
        api.openChain("c8");
        api.startCrawling("j8", "c8");

        Reply r = api.post("/jobs/stream/j8/pause");

        assertThat(r.status()).as("%s", r).isEqualTo(202);
        assertThat(r.body().get("paused").asBoolean()).isTrue();
        assertThat(r.headers().getETag()).isNotBlank();
        api.awaitStatus("j8", "paused");
        api.post("/jobs/stream/j8/cancel?force=true");
    }

    @Test
    void aSecondPauseIs409AlreadyPaused() throws Exception {
        api.openChain("c9");
        api.startCrawling("j9", "c9");
        api.post("/jobs/stream/j9/pause");

        Reply r = api.post("/jobs/stream/j9/pause");

        assertProblem(r, 409);
        assertThat(r.text("detail")).isEqualTo("Job is already paused");
        assertThat(r.text("errorClass")).isEqualTo("GenericError");
        api.post("/jobs/stream/j9/cancel?force=true");
    }

    @Test
    void resumeAnswers200AndTheJobRunsAgain() throws Exception {
        api.openChain("c10");
        api.startCrawling("j10", "c10");
        api.post("/jobs/stream/j10/pause");
        api.awaitStatus("j10", "paused");

        Reply r = api.post("/jobs/stream/j10/resume");

        assertThat(r.status()).as("%s", r).isEqualTo(200);
        assertThat(r.body().get("paused").asBoolean()).isFalse();
        api.awaitStatus("j10", "running");
        api.post("/jobs/stream/j10/cancel");
    }

    @Test
    void aVerbTheStateTableForbidsIs409NamingJobStatusAndVerb() throws Exception {
        api.openChain("c11");
        api.startCrawling("j11", "c11");

        Reply r = api.post("/jobs/stream/j11/finalize");

        assertProblem(r, 409);
        assertThat(r.text("detail")).isEqualTo("Job 'j11' in state 'running' cannot accept command verb 'finalize'");
        api.post("/jobs/stream/j11/cancel");
    }

    @Test
    void cancelAnswers202AndTheJobConcludesCancelledWithTheChainUnchanged() throws Exception {
        Chain chain = api.openChain("c12");
        api.startCrawling("j12", "c12");

        Reply r = api.post("/jobs/stream/j12/cancel");

        assertThat(r.status()).as("%s", r).isEqualTo(202);
        Reply done = api.awaitStatus("j12", "null");
        assertThat(done.text("result")).isEqualTo("cancelled");
        assertThat(QemuTools.require().info(chain.top()).get("backing-filename").asString())
                .isEqualTo("mid.qcow2");
    }

    @Test
    void cancelOfAUserPausedJobNeedsForce() throws Exception {
        api.openChain("c13");
        api.startCrawling("j13", "c13");
        api.post("/jobs/stream/j13/pause");

        Reply refused = api.post("/jobs/stream/j13/cancel");
        Reply forced = api.post("/jobs/stream/j13/cancel?force=true");

        assertProblem(refused, 409);
        assertThat(refused.text("detail")).isEqualTo("The block job for device 'j13' is currently paused");
        assertThat(forced.status()).as("%s", forced).isEqualTo(202);
        assertThat(api.awaitStatus("j13", "null").text("result")).isEqualTo("cancelled");
    }

    @Test
    void patchWithAMergePatchChangesTheSpeed() throws Exception {
        api.openChain("c14");
        api.startCrawling("j14", "c14");

        Reply r = api.patch(
                "/jobs/stream/j14",
                MediaType.parseMediaType("application/merge-patch+json"),
                "{\"speed\": 2048}",
                null);

        assertThat(r.status()).as("%s", r).isEqualTo(200);
        assertThat(r.body().get("speed").asLong()).isEqualTo(2048);
        assertThat(api.get("/jobs/stream/j14").body().get("speed").asLong()).isEqualTo(2048);
        api.post("/jobs/stream/j14/cancel");
    }

    @Test
    void patchingTheSpeedToZeroLetsAThrottledJobFinish() throws Exception {
        api.openChain("c15");
        api.startCrawling("j15", "c15");

        Reply r = api.patch("/jobs/stream/j15", MediaType.APPLICATION_JSON, "{\"speed\": 0}", null);

        assertThat(r.status()).as("%s", r).isEqualTo(200);
        assertThat(api.awaitStatus("j15", "null").text("result")).isEqualTo("completed");
    }

    @Test
    void patchOfAnyOtherMemberIs400() throws Exception {
        api.openChain("c16");
        api.startCrawling("j16", "c16");

        Reply r = api.patch("/jobs/stream/j16", MediaType.APPLICATION_JSON, "{\"speed\": 1, \"device\": \"x\"}", null);

        assertProblem(r, 400, "unknown-field");
        assertThat(r.text("detail")).contains("device");
        api.post("/jobs/stream/j16/cancel");
    }

    @Test
    void patchWithANegativeSpeedIs400() throws Exception {
        api.openChain("c17");
        api.startCrawling("j17", "c17");

        Reply r = api.patch("/jobs/stream/j17", MediaType.APPLICATION_JSON, "{\"speed\": -5}", null);

        assertProblem(r, 400);
        assertThat(r.text("detail")).isEqualTo("Parameter 'speed' expects a non-negative value");
        api.post("/jobs/stream/j17/cancel");
    }

    @Test
    void patchWithAStaleIfMatchIs412AndWithTheCurrentETagSucceeds() throws Exception {
        api.openChain("c18");
        api.startCrawling("j18", "c18");
        api.post("/jobs/stream/j18/pause");
        api.awaitStatus("j18", "paused");
        String etag = api.get("/jobs/stream/j18").headers().getETag();

        Reply stale = api.patch("/jobs/stream/j18", MediaType.APPLICATION_JSON, "{\"speed\": 1}", "\"0-0\"");
        Reply fresh = api.patch("/jobs/stream/j18", MediaType.APPLICATION_JSON, "{\"speed\": 1}", etag);

        assertProblem(stale, 412, "precondition-failed");
        assertThat(fresh.status()).as("%s", fresh).isEqualTo(200);
        assertThat(fresh.headers().getETag()).isNotEqualTo(etag);
        api.post("/jobs/stream/j18/cancel?force=true");
    }

    @Test
    void aGetWithTheCurrentETagInIfNoneMatchIs304WithoutABody() throws Exception {
        api.openChain("c27");
        api.startCrawling("j27", "c27");
        api.post("/jobs/stream/j27/pause");
        api.awaitStatus("j27", "paused");
        String etag = api.get("/jobs/stream/j27").headers().getETag();

        Reply r = api.getWith("/jobs/stream/j27", "If-None-Match", etag);

        assertThat(r.status()).as("%s", r).isEqualTo(304);
        assertThat(r.raw()).isEmpty();
        assertThat(r.headers().getETag()).isEqualTo(etag);
        api.post("/jobs/stream/j27/cancel?force=true");
    }

    @Test
    void aVerbWithAStaleIfMatchIs412() throws Exception {
        api.openChain("c19");
        api.startCrawling("j19", "c19");

        Reply r = api.postWith("/jobs/stream/j19/pause", "If-Match", "\"0-0\"");

        assertProblem(r, 412);
        assertThat(api.get("/jobs/stream/j19").body().get("paused").asBoolean())
                .as("not applied")
                .isFalse();
        api.post("/jobs/stream/j19/cancel");
    }

    @Test
    void withoutAutoFinalizeTheJobWaitsInPendingUntilFinalize() throws Exception {
        api.openChain("c20");
        api.start(Map.of("jobId", "j20", "device", "c20", "autoFinalize", false));
        api.awaitStatus("j20", "pending");

        Reply r = api.post("/jobs/stream/j20/finalize");

        assertThat(r.status()).as("%s", r).isEqualTo(200);
        assertThat(api.awaitStatus("j20", "null").text("result")).isEqualTo("completed");
    }

    @Test
    void withoutAutoDismissTheJobStaysConcludedUntilDismiss() throws Exception {
        api.openChain("c21");
        api.start(Map.of("jobId", "j21", "device", "c21", "autoDismiss", false));
        api.awaitStatus("j21", "concluded");

        Reply r = api.post("/jobs/stream/j21/dismiss");

        assertThat(r.status()).as("%s", r).isEqualTo(200);
        assertThat(r.text("status")).isEqualTo("null");
        assertThat(api.get("/jobs/stream/j21").text("status")).isEqualTo("null");
    }

    @Test
    void theListShowsRunningAndFinishedJobsAndFiltersByStatusAndDevice() throws Exception {
        api.openChain("c22");
        api.openChain("c22b");
        api.startCrawling("j22", "c22");
        api.start(Map.of("jobId", "j22b", "device", "c22b"));
        api.awaitStatus("j22b", "null");

        List<String> all = ids(api.get("/jobs/stream?pageSize=1000"));
        List<String> running = ids(api.get("/jobs/stream?status=running&pageSize=1000"));
        List<String> onDevice = ids(api.get("/jobs/stream?device=c22b"));

        assertThat(all).contains("j22", "j22b");
        assertThat(running).contains("j22").doesNotContain("j22b");
        assertThat(onDevice).containsExactly("j22b");
        api.post("/jobs/stream/j22/cancel");
    }

    @Test
    void anUnknownStatusFilterIs400() {
        Reply r = api.get("/jobs/stream?status=runing");

        assertProblem(r, 400);
        assertThat(r.text("detail")).contains("runing");
    }

    @Test
    void anUnknownQueryParameterIs400() {
        Reply r = api.get("/jobs/stream?stauts=running");

        assertProblem(r, 400);
        assertThat(r.text("detail")).contains("stauts");
    }

    @Test
    void theListIsPagedWithALinkHeader() throws Exception {
        api.openChain("c23");
        api.openChain("c23b");
        api.start(Map.of("jobId", "j23", "device", "c23"));
        api.start(Map.of("jobId", "j23b", "device", "c23b"));
        api.awaitStatus("j23", "null");
        api.awaitStatus("j23b", "null");

        Reply first = api.get("/jobs/stream?device=c23,c23b&pageSize=1");
        String link = first.headers().getFirst("Link");
        assertThat(link).contains("rel=\"next\"");
        String next = link.substring(link.indexOf('<') + 1, link.indexOf('>'));
        Reply second = api.get(next);

        assertThat(ids(first)).containsExactly("j23");
        assertThat(ids(second)).containsExactly("j23b");
        assertThat(second.headers().getFirst("Link")).isNull();
    }

    @Test
    void getJobsListsEveryTypeAndFiltersByType() throws Exception {
        api.openChain("c24");
        api.startCrawling("j24", "c24");

        List<String> all = ids(api.get("/jobs?pageSize=1000"));
        List<String> streams = ids(api.get("/jobs?type=stream&status=running&pageSize=1000"));
        List<String> mirrors = ids(api.get("/jobs?type=mirror"));

        assertThat(all).contains("j24");
        assertThat(streams).contains("j24");
        assertThat(mirrors).isEmpty();
        api.post("/jobs/stream/j24/cancel");
    }

    @Test
    void anUnknownTypeFilterIs400() {
        assertProblem(api.get("/jobs?type=strem"), 400);
    }

    @Test
    void aRepeatedIdempotencyKeyReplaysTheFirstAnswer() throws Exception {
        api.openChain("c25");
        Map<String, Object> body = Map.of("jobId", "j25", "device", "c25", "speed", JobApi.CRAWL);

        Reply first = api.post("/jobs/stream", body, h -> h.set("Idempotency-Key", "k25"));
        Reply again = api.post("/jobs/stream", body, h -> h.set("Idempotency-Key", "k25"));

        assertThat(first.status()).as("%s", first).isEqualTo(201);
        assertThat(again.status()).as("%s", again).isEqualTo(201);
        assertThat(again.text("id")).isEqualTo("j25");
        assertThat(again.headers().getLocation()).isEqualTo(first.headers().getLocation());
        assertThat(again.headers().getFirst("Idempotent-Replayed")).isEqualTo("true");
        api.post("/jobs/stream/j25/cancel");
    }

    @Test
    void anIdempotencyKeyReusedWithAnotherBodyIs422() throws Exception {
        api.openChain("c26");
        api.post(
                "/jobs/stream",
                Map.of("jobId", "j26", "device", "c26", "speed", JobApi.CRAWL),
                h -> h.set("Idempotency-Key", "k26"));

        Reply r = api.post(
                "/jobs/stream",
                Map.of("jobId", "j26", "device", "c26", "speed", 1),
                h -> h.set("Idempotency-Key", "k26"));

        assertProblem(r, 422);
        api.post("/jobs/stream/j26/cancel");
    }

    private static List<String> ids(Reply r) {
        assertThat(r.status()).as("%s", r).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        r.body().forEach(j -> ids.add(j.get("id").asString()));
        return ids;
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.propertyNames().forEach(names::add);
        return names;
    }

    @Test
    void waitForConcludedAnswersOnceTheJobHasFinished() throws Exception {
        api.openChain("w1");
        api.start(Map.of("jobId", "w1", "device", "w1", "speed", 4 * 1024 * 1024));

        Reply r = api.get("/jobs/stream/w1?waitFor=concluded&timeout=30s");

        assertThat(r.status()).as("%s", r).isEqualTo(200);
        assertThat(r.text("status")).isIn("concluded", "null");
        assertThat(r.text("result")).isEqualTo("completed");
    }

    @Test
    void waitForPausedAnswersOnceThePauseHasLanded() throws Exception {
        api.openChain("w2");
        api.startCrawling("w2", "w2");
        api.post("/jobs/stream/w2/pause");

        Reply r = api.get("/jobs/stream/w2?waitFor=paused");

        assertThat(r.text("status")).isEqualTo("paused");
        api.post("/jobs/stream/w2/cancel?force=true");
    }

    @Test
    void aWaitThatTimesOutAnswersWithTheJobAsItIs() throws Exception {
        api.openChain("w3");
        api.startCrawling("w3", "w3");

        Reply r = api.get("/jobs/stream/w3?waitFor=concluded&timeout=300ms");

        assertThat(r.status()).as("%s", r).isEqualTo(200);
        assertThat(r.text("status")).isEqualTo("running");
        assertThat(r.headers().getFirst("Retry-After")).isEqualTo("1");
        api.post("/jobs/stream/w3/cancel");
    }

    @Test
    void waitingForAnUnknownJobIs404() {
        assertProblem(api.get("/jobs/stream/nope?waitFor=concluded"), 404);
    }

    @Test
    void anUnknownWaitForStatusIs400() {
        assertProblem(api.get("/jobs/stream/x?waitFor=finished"), 400);
    }

    @Test
    void aTimeoutAboveFiveMinutesOrWithoutWaitForIs400() {
        assertProblem(api.get("/jobs/stream/x?waitFor=concluded&timeout=6m"), 400);
        assertProblem(api.get("/jobs/stream/x?waitFor=concluded&timeout=soon"), 400);
        assertProblem(api.get("/jobs/stream/x?timeout=10s"), 400);
    }
}
