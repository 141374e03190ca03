package dev.blockpull.api;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * Bodies and query strings are read strictly and alike on every endpoint: a value of the wrong
 * JSON type is a 400 naming the field (never coerced, never truncated), and a query parameter
 * the endpoint does not take is a 400 naming the parameter.
 */
@BlockpullHttpTest
class StrictParsingTests {

    @ServiceDataRoot
    static Path dataRoot;

    @Autowired
    RestTestClient client;

    @Test
    void aNumberAsFileNameIs400NamingTheFieldAndNothingIsCreated() {
        Reply r = post("/images", "{\"filename\": 12345, \"format\": \"raw\", \"size\": 512}");

        assertProblem(r, 400, "malformed-body");
        assertThat(r.text("detail")).contains("'filename'").contains("expected a string");
        assertThat(dataRoot.resolve("12345")).doesNotExist();
    }

    @Test
    void aFractionAsSizeIs400NamingTheFieldAndNothingIsCreated() {
        Reply r = post("/images", "{\"filename\": \"frac.raw\", \"format\": \"raw\", \"size\": 1.9}");

        assertProblem(r, 400, "malformed-body");
        assertThat(r.text("detail")).contains("'size'").contains("integer");
        assertThat(dataRoot.resolve("frac.raw")).doesNotExist();
    }

    @Test
    void aStringAsSizeIs400NamingTheField() {
        Reply r = post("/images", "{\"filename\": \"str.raw\", \"format\": \"raw\", \"size\": \"512\"}");

        assertProblem(r, 400, "malformed-body");
        assertThat(r.text("detail")).contains("'size'");
    }

    @Test
    void aFractionAsSpeedIs400NamingTheFieldWhenStartingAJob() {
        Reply r = post("/jobs/stream", "{\"device\": \"top\", \"speed\": 1.5}");

        assertProblem(r, 400, "malformed-body");
        assertThat(r.text("detail")).contains("'speed'");
    }

    @Test
    void aFractionAsSpeedIs400NamingTheFieldWhenChangingIt() {
        Reply r = Reply.of(client.patch()
                .uri("/jobs/stream/any")
                .contentType(MediaType.APPLICATION_JSON)
                .body("{\"speed\": 1.5}")
                .exchange());

        assertProblem(r, 400, "malformed-body");
        assertThat(r.text("detail")).contains("'speed'");
    }

    @Test
    void aNumberForAnEnumIs400NamingTheField() {
        Reply r = post("/jobs/stream", "{\"device\": \"top\", \"onError\": 1}");

        assertProblem(r, 400, "malformed-body");
        assertThat(r.text("detail")).contains("'onError'");
    }

    @Test
    void aNumberForABooleanIs400NamingTheField() {
        Reply r = post("/jobs/stream", "{\"device\": \"top\", \"autoFinalize\": 1}");

        assertProblem(r, 400, "malformed-body");
        assertThat(r.text("detail")).contains("'autoFinalize'");
    }

    @ParameterizedTest(name = "GET {0}")
    @ValueSource(
            strings = {
                "/jobs/events?since=1",
                "/images?sort=name",
                "/images/info?filename=x&follow=1",
                "/nodes?pagesize=5",
                "/exports?all=1",
                "/jobs/stream?stauts=running",
                "/jobs?x=1"
            })
    void anUnknownQueryParameterIs400NamingItOnEveryEndpoint(String uri) {
        Reply r = Reply.of(client.get()
                .uri(uri)
                .header("Accept", "application/json, text/event-stream")
                .exchange());

        assertProblem(r, 400, "invalid-argument");
        String name = uri.substring(uri.lastIndexOf(uri.contains("&") ? '&' : '?') + 1)
                .split("=")[0];
        assertThat(r.text("detail")).contains("Unknown query parameter '" + name + "'");
    }

    @Test
    void anUnknownQueryParameterOnAPostIs400AndNothingIsCreated() {
        Reply r = post("/images?overwrite=true", "{\"filename\": \"q.raw\", \"format\": \"raw\", \"size\": 512}");

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("'overwrite'").contains("takes none");
        assertThat(dataRoot.resolve("q.raw")).doesNotExist();
    }

    @Test
    void knownQueryParametersStillWork() {
        assertThat(Reply.of(client.get().uri("/images?pageSize=5").exchange()).status())
                .isEqualTo(200);
        assertThat(Reply.of(client.get().uri("/jobs?status=running&pageSize=5").exchange())
                        .status())
                .isEqualTo(200);
        assertThat(Reply.of(client.get().uri("/nodes?pageSize=5&pageToken=").exchange())
                        .status())
                .isEqualTo(200);
    }

    private Reply post(String uri, String json) {
        return Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(json)
                .exchange());
    }
}
