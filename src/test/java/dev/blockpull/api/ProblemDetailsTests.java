package dev.blockpull.api;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * Error answers over a real port: every failure, ours or Spring MVC's, is RFC 9457
 * problem+json with the contract's errorClass, and refused requests create nothing.
 */
@BlockpullHttpTest(properties = "blockpull.http.max-request-size=" + ProblemDetailsTests.LIMIT + "B")
class ProblemDetailsTests {

    static final int LIMIT = 16 * 1024;

    @ServiceDataRoot
    static Path dataRoot;

    @TempDir
    static Path outside;

    @Autowired
    RestTestClient client;

    @LocalServerPort
    int port;

    Reply postImages(Object body) {
        return Reply.of(client.post()
                .uri("/images")
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange());
    }

    Reply postRaw(String body, MediaType type) {
        return Reply.of(client.post()
                .uri("/images")
                .contentType(type)
                .body(body.getBytes(StandardCharsets.UTF_8))
                .exchange());
    }

    @Test
    void unknownFieldIs400ProblemNamingTheField() {
        Reply r = postImages(Map.of("filename", "vm/x.qcow2", "format", "qcow2", "size", 1048576, "clusterSise", 4096));

        assertProblem(r, 400, "unknown-field");
        assertThat(r.text("detail")).contains("'clusterSise'").contains("clusterSize");
        assertThat(r.text("errorClass")).isEqualTo("GenericError");
        assertThat(dataRoot.resolve("vm/x.qcow2")).doesNotExist();
    }

    @Test
    void malformedJsonIs400Problem() {
        Reply r = postRaw("{not json", MediaType.APPLICATION_JSON);

        assertProblem(r, 400, "malformed-body");
        assertThat(r.text("detail")).startsWith("Malformed JSON");
    }

    @Test
    void missingBodyIs400Problem() {
        Reply r = postRaw("", MediaType.APPLICATION_JSON);

        assertProblem(r, 400, "malformed-body");
        assertThat(r.text("detail")).contains("body is missing");
    }

    @Test
    void wrongTypeOfAFieldIs400ProblemNamingTheField() {
        Reply r = postImages(Map.of("filename", "vm/x.qcow2", "format", "qcow2", "size", "big"));

        assertProblem(r, 400, "malformed-body");
        assertThat(r.text("detail")).contains("'size'").contains("integer");
    }

    @Test
    void nonObjectBodyIs400Problem() {
        Reply r = postRaw("[1, 2]", MediaType.APPLICATION_JSON);

        assertProblem(r, 400, "malformed-body");
    }

    @Test
    void validationErrorsListEachFieldWithItsMessage() {
        Reply r = postImages(Map.of("filename", "", "format", "qcow2", "size", -1));

        assertProblem(r, 400, "validation-failed");
        assertThat(r.body().get("errors").valueStream().map(e -> e.get("field").asString()))
                .containsExactlyInAnyOrder("filename", "size");
        assertThat(r.body()
                        .get("errors")
                        .valueStream()
                        .map(e -> e.get("message").asString()))
                .allSatisfy(m -> assertThat(m).isNotBlank());
    }

    @Test
    void invalidQueryParameterIs400WithErrors() {
        Reply r = Reply.of(client.get().uri("/images?pageSize=0").exchange());

        assertProblem(r, 400, "validation-failed");
        assertThat(r.body().get("errors").get(0).get("field").asString()).isEqualTo("pageSize");
    }

    @Test
    void invalidPageTokenIs400() {
        Reply r = Reply.of(client.get().uri("/images?pageToken=***").exchange());

        assertProblem(r, 400, "invalid-argument");
    }

    @Test
    void missingQueryParameterIs400() {
        Reply r = Reply.of(client.get().uri("/images/info").exchange());

        assertProblem(r, 400, "bad-request");
        assertThat(r.text("detail")).contains("filename");
    }

    @Test
    void unsupportedFormatIs400SayingWhatIsSupported() {
        Reply r = postImages(Map.of("filename", "vm/y.qcow2", "format", "vmdk", "size", 1048576));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("vmdk").contains("qcow2").contains("raw");
    }

    @Test
    void absoluteFilenameIs400AndNothingIsCreated() {
        Path target = outside.resolve("abs.qcow2");

        Reply r = postImages(Map.of("filename", target.toString(), "format", "qcow2", "size", 1048576));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("absolute");
        assertThat(target).doesNotExist();
    }

    @Test
    void dotDotFilenameIs400AndNothingIsCreated() {
        Reply r = postImages(Map.of("filename", "../escape.qcow2", "format", "qcow2", "size", 1048576));

        assertProblem(r, 400, "invalid-argument");
        assertThat(dataRoot.resolveSibling("escape.qcow2")).doesNotExist();
    }

    @Test
    void symlinkEscapeIs400AndNothingIsCreated() throws IOException {
        Files.createSymbolicLink(dataRoot.resolve("evil"), outside);

        Reply r = postImages(Map.of("filename", "evil/x.qcow2", "format", "qcow2", "size", 1048576));

        assertProblem(r, 400, "invalid-argument");
        try (var files = Files.list(outside)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void backingFileOutsideTheRootIs400AndNothingIsCreated() {
        Reply r = postImages(Map.of(
                "filename",
                "vm/over.qcow2",
                "format",
                "qcow2",
                "backingFile",
                "../../etc/passwd",
                "backingFormat",
                "raw"));

        assertProblem(r, 400, "invalid-argument");
        assertThat(dataRoot.resolve("vm/over.qcow2")).doesNotExist();
    }

    @Test
    void protocolPrefixInBackingFileIs400() {
        Reply r = postImages(Map.of(
                "filename",
                "over.qcow2",
                "format",
                "qcow2",
                "size",
                1048576,
                "backingFile",
                "nbd://127.0.0.1:10809/x"));

        assertProblem(r, 400, "invalid-argument");
        assertThat(dataRoot.resolve("over.qcow2")).doesNotExist();
    }

    @Test
    void missingBackingFileIs400() {
        Reply r = postImages(Map.of("filename", "over.qcow2", "format", "qcow2", "backingFile", "nope.qcow2"));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("nope.qcow2");
        assertThat(dataRoot.resolve("over.qcow2")).doesNotExist();
    }

    @Test
    void sizeIsRequiredWithoutBackingFile() {
        Reply r = postImages(Map.of("filename", "vm/nosize.qcow2", "format", "qcow2"));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("size");
    }

    @Test
    void rawImagesRefuseABackingFile() {
        Reply r = postImages(Map.of("filename", "x.raw", "format", "raw", "size", 1048576, "backingFile", "b.raw"));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("raw");
    }

    @Test
    void rawImagesRefuseQcow2Options() {
        Reply r = postImages(Map.of("filename", "x.raw", "format", "raw", "size", 1048576, "clusterSize", 4096));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("clusterSize");
    }

    @Test
    void clusterSizeMustBeAPowerOfTwo() {
        Reply r = postImages(Map.of("filename", "c.qcow2", "format", "qcow2", "size", 1048576, "clusterSize", 3000));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("power of two");
    }

    @Test
    void clusterSizeAbove2MiBIsRefusedByValidation() {
        Reply r = postImages(
                Map.of("filename", "c.qcow2", "format", "qcow2", "size", 1048576, "clusterSize", 4 * 1024 * 1024));

        assertProblem(r, 400, "validation-failed");
    }

    @Test
    void lazyRefcountsNeedCompat11() {
        Reply r = postImages(Map.of(
                "filename", "l.qcow2", "format", "qcow2", "size", 1048576, "compat", "0.10", "lazyRefcounts", true));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("compatibility level 1.1");
    }

    @Test
    void infoOfAnUnknownImageIs404() {
        Reply r =
                Reply.of(client.get().uri("/images/info?filename=vm/none.qcow2").exchange());

        assertProblem(r, 404, "not-found");
        assertThat(r.text("detail")).contains("vm/none.qcow2");
        assertThat(r.text("instance")).isEqualTo("/images/info");
    }

    @Test
    void infoOutsideTheRootIs400() {
        Reply r = Reply.of(client.get().uri("/images/info?filename=../x").exchange());

        assertProblem(r, 400, "invalid-argument");
    }

    @Test
    void wrongMethodIs405Problem() {
        Reply r = Reply.of(client.delete().uri("/images").exchange());

        assertProblem(r, 405, "method-not-allowed");
    }

    @Test
    void wrongContentTypeIs415Problem() {
        Reply r = postRaw("filename=x", MediaType.TEXT_PLAIN);

        assertProblem(r, 415, "unsupported-media-type");
    }

    @Test
    void unknownPathIs404Problem() {
        Reply r = Reply.of(client.get().uri("/no/such/thing").exchange());

        assertProblem(r, 404, "no-such-resource");
    }

    @Test
    void bodyOverTheLimitIs413Problem() {
        String big = "{\"filename\":\"" + "a".repeat(LIMIT) + "\"}";

        Reply r = postRaw(big, MediaType.APPLICATION_JSON);

        assertProblem(r, 413, "payload-too-large");
        assertThat(r.text("instance")).isEqualTo("/images");
    }

    @Test
    void chunkedBodyOverTheLimitIs413Problem() throws Exception {
        byte[] big = ("{\"filename\":\"" + "a".repeat(LIMIT) + "\",\"format\":\"raw\",\"size\":512}")
                .getBytes(StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/images"))
                .header("Content-Type", "application/json")
                // no Content-Length: the body goes chunked and is counted while it is read
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
                .build();

        HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        assertThat(response.body()).contains("\"errorClass\"");
        assertThat(dataRoot.resolve("a".repeat(10))).doesNotExist();
    }
}
