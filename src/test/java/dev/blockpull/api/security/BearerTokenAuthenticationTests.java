package dev.blockpull.api.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.BlockpullHttpTest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/** With {@code blockpull.security.token} set, over a real port: who gets in, and what the refusal looks like. */
@BlockpullHttpTest(properties = "blockpull.security.token=" + BearerTokenAuthenticationTests.TOKEN)
class BearerTokenAuthenticationTests {

    static final String TOKEN = "test-token-0123456789abcdef";

    @Autowired
    RestTestClient client;

    @LocalServerPort
    int port;

    Reply get(String path, String... authorization) {
        return Reply.of(client.get()
                .uri(path)
                .headers(h -> {
                    for (String a : authorization) {
                        h.add(HttpHeaders.AUTHORIZATION, a);
                    }
                })
                .exchange());
    }

    @Test
    void callWithoutTokenIs401ProblemWithBearerChallenge() {
        Reply r = get("/images");

        assertThat(r.status()).isEqualTo(401);
        assertThat(r.headers().getFirst(HttpHeaders.WWW_AUTHENTICATE)).isEqualTo("Bearer realm=\"blockpull\"");
        assertThat(r.contentType()).startsWith(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        assertThat(r.text("type")).isEqualTo("https://blockpull.dev/problems/unauthorized");
        assertThat(r.text("title")).isEqualTo("Unauthorized");
        assertThat(r.body().get("status").asInt()).isEqualTo(401);
        assertThat(r.text("errorClass")).isEqualTo("GenericError");
        assertThat(r.text("instance")).isEqualTo("/images");
        assertThat(r.text("detail")).contains("Authorization: Bearer");
        assertThat(r.headers().getFirst(HttpHeaders.CACHE_CONTROL)).isEqualTo("no-store");
    }

    @Test
    void callWithWrongTokenIs401InvalidTokenAndDoesNotEchoIt() {
        Reply r = get("/images", "Bearer not-the-token");

        assertThat(r.status()).isEqualTo(401);
        assertThat(r.headers().getFirst(HttpHeaders.WWW_AUTHENTICATE))
                .isEqualTo("Bearer realm=\"blockpull\", error=\"invalid_token\"");
        assertThat(r.text("errorClass")).isEqualTo("GenericError");
        assertThat(r.raw()).doesNotContain("not-the-token").doesNotContain(TOKEN);
    }

    @Test
    void tokenThatIsAPrefixOrExtensionOfTheRightOneIs401() {
        assertThat(get("/images", "Bearer " + TOKEN.substring(0, TOKEN.length() - 1))
                        .status())
                .isEqualTo(401);
        assertThat(get("/images", "Bearer " + TOKEN + "0").status()).isEqualTo(401);
    }

    @Test
    void callWithTheTokenPasses() {
        Reply r = get("/images", "Bearer " + TOKEN);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).startsWith(MediaType.APPLICATION_JSON_VALUE);
    }

    @Test
    void schemeNameIsCaseInsensitive() {
        assertThat(get("/nodes", "bearer " + TOKEN).status()).isEqualTo(200);
        assertThat(get("/nodes", "BEARER " + TOKEN).status()).isEqualTo(200);
    }

    @Test
    void otherSchemesAndEmptyCredentialsAre401() {
        assertThat(get("/nodes", "Basic dXNlcjpwYXNz").status()).isEqualTo(401);
        assertThat(get("/nodes", "Bearer ").status()).isEqualTo(401);
        assertThat(get("/nodes", TOKEN).status()).isEqualTo(401);
    }

    @Test
    void unknownPathsAre401NotAnInventoryOfTheApi() {
        assertThat(get("/no/such/thing").status()).isEqualTo(401);
    }

    @Test
    void postWithoutTokenIs401BeforeTheBodyIsLookedAt() {
        Reply r = Reply.of(client.post()
                .uri("/nodes")
                .contentType(MediaType.APPLICATION_JSON)
                .body("x".repeat(2 * 1024 * 1024))
                .exchange());

        assertThat(r.status())
                .as("401, not the 413 of the size limit behind it")
                .isEqualTo(401);
    }

    @Test
    void postWithTheTokenReachesTheController() {
        Reply r = Reply.of(client.post()
                .uri("/nodes")
                .contentType(MediaType.APPLICATION_JSON)
                .header(HttpHeaders.AUTHORIZATION, "Bearer " + TOKEN)
                .body("{\"nodeName\":\"1bad\"}")
                .exchange());

        assertThat(r.status()).isEqualTo(400);
        assertThat(r.text("errorClass")).isEqualTo("GenericError");
    }

    @Test
    void healthProbesStayOpen() {
        for (String path : List.of("/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness")) {
            assertThat(get(path).status()).as(path).isEqualTo(200);
        }
    }

    @Test
    void otherActuatorEndpointsNeedTheToken() {
        assertThat(get("/actuator/info").status()).isEqualTo(401);
        assertThat(get("/actuator/metrics").status()).isEqualTo(401);
        assertThat(get("/actuator/metrics", "Bearer " + TOKEN).status()).isEqualTo(200);
    }

    @Test
    void prometheusScrapingStaysOpenByDefault() {
        Reply r = get("/actuator/prometheus");

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.raw()).contains("application=\"blockpull\"");
    }

    @Test
    void swaggerUiAndTheOpenApiDocumentStayOpen() {
        assertThat(get("/v3/api-docs").status()).isEqualTo(200);
        assertThat(get("/swagger-ui/index.html").status()).isEqualTo(200);
        assertThat(get("/swagger-ui.html").status()).isIn(200, 302);
    }

    @Test
    void theJobsPagesStaticFilesStayOpen() {
        assertThat(get("/ui/").status()).isEqualTo(200);
        assertThat(get("/ui/jobs.js").status()).isEqualTo(200);
        assertThat(get("/ui").status()).isEqualTo(302);
    }

    @Test
    void openApiDocumentAdvertisesTheBearerScheme() {
        Reply r = get("/v3/api-docs");

        assertThat(r.body().at("/components/securitySchemes/bearerAuth/type").asString())
                .isEqualTo("http");
        assertThat(r.body().at("/components/securitySchemes/bearerAuth/scheme").asString())
                .isEqualTo("bearer");
        assertThat(r.body().at("/security/0/bearerAuth").isArray()).isTrue();
    }

    /** Raw requests, so that no client normalises the path before the server sees it. */
    @Test
    void pathTricksThroughOpenPathsDoNotReachTheApi() throws IOException {
        for (String path : List.of(
                "/actuator/health/../../images",
                "/actuator/health/%2e%2e/%2e%2e/images",
                "/actuator/health;x=1/../../images",
                "/swagger-ui/../images",
                "/ui/../jobs",
                "/ui/%2e%2e/jobs",
                "/v3/api-docs/..;/..;/images",
                "//actuator/health/../../images",
                "/actuator/prometheus/../../images")) {
            int status = rawGetStatus(path);
            assertThat(status).as(path).isNotEqualTo(200).isBetween(400, 499);
        }
    }

    int rawGetStatus(String path) throws IOException {
        try (Socket socket = new Socket("localhost", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            String statusLine = response.lines().findFirst().orElseThrow();
            return Integer.parseInt(statusLine.split(" ")[1]);
        }
    }
}
