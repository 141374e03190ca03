package dev.blockpull.api.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/** Talks to /nodes and /jobs over a real port for the job API tests. */
final class JobApi {

    static final Duration WAIT = Duration.ofSeconds(30);
    /** After the first 512 KiB chunk a job at this speed sleeps for minutes (stream-semantics §7.2). */
    static final long CRAWL = 1024;

    private final RestTestClient client;
    private final Path dataRoot;

    JobApi(RestTestClient client, Path dataRoot) {
        this.client = client;
        this.dataRoot = dataRoot;
    }

    /** A base/mid/top chain in {@code dataRoot/name}, opened as node {@code name}. */
    Chain openChain(String name) throws Exception {
        Chain chain = Chains.baseMidTop(QemuTools.require(), Files.createDirectories(dataRoot.resolve(name)));
        Reply r = post("/nodes", Map.of("nodeName", name, "driver", "qcow2", "file", name + "/top.qcow2"));
        assertThat(r.status()).as("%s", r).isEqualTo(201);
        return chain;
    }

    Reply get(String uri) {
        return Reply.of(client.get().uri(uri).exchange());
    }

    Reply post(String uri, Object body) {
        return Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange());
    }

    Reply post(String uri, Object body, Consumer<org.springframework.http.HttpHeaders> headers) {
        return Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .headers(headers)
                .body(body)
                .exchange());
    }

    Reply post(String uri) {
        return Reply.of(client.post().uri(uri).exchange());
    }

    Reply getWith(String uri, String header, String value) {
        return Reply.of(client.get().uri(uri).header(header, value).exchange());
    }

    Reply postWith(String uri, String header, String value) {
        return Reply.of(client.post().uri(uri).header(header, value).exchange());
    }

    Reply patch(String uri, MediaType type, String json, @Nullable String ifMatch) {
        RestTestClient.RequestBodySpec spec = client.patch().uri(uri).contentType(type);
        if (ifMatch != null) {
            spec = spec.header("If-Match", ifMatch);
        }
        return Reply.of(spec.body(json).exchange());
    }

    /** Starts a stream job and checks the 201. */
    Reply start(Map<String, ?> body) {
        Reply r = post("/jobs/stream", body);
        assertThat(r.status()).as("%s", r).isEqualTo(201);
        return r;
    }

    /** A job that copies one chunk and then sleeps: a job that stays running. */
    Reply startCrawling(String jobId, String device) {
        return start(Map.of("jobId", jobId, "device", device, "speed", CRAWL));
    }

    /** Waits until the job's status is one of {@code statuses}; returns the last GET. */
    Reply awaitStatus(String jobId, String... statuses) {
        Reply[] last = new Reply[1];
        await().atMost(WAIT).untilAsserted(() -> {
            last[0] = get("/jobs/stream/" + jobId);
            assertThat(last[0].status()).as("%s", last[0]).isEqualTo(200);
            assertThat(Set.of(statuses)).as("%s", last[0]).contains(last[0].text("status"));
        });
        return last[0];
    }
}
