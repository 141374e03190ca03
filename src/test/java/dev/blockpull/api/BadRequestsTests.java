package dev.blockpull.api;

import static dev.blockpull.api.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * Requests that used to end in a 500 or in a server's HTML page: each is a 4xx problem now, and
 * nothing is created on the way. The malformed ones are written on a raw socket, since an HTTP
 * client would refuse to send them.
 */
@BlockpullHttpTest
class BadRequestsTests {

    @ServiceDataRoot
    static Path dataRoot;

    @Autowired
    RestTestClient client;

    @LocalServerPort
    int port;

    @Test
    void aSizeLargerThanTheFileSystemAllowsIs400AndNoFileIsLeft() {
        Reply r = post("/images", Map.of("filename", "huge.raw", "format", "raw", "size", 4611686018427387904L));

        assertProblem(r, 400, "invalid-argument");
        assertThat(r.text("detail")).contains("huge.raw").contains("larger than the file system allows");
        assertThat(dataRoot.resolve("huge.raw")).doesNotExist();
    }

    @Test
    void aQcow2SizeLargerThanQcow2AllowsIs400AndNoFileIsLeft() {
        Reply r = post("/images", Map.of("filename", "huge.qcow2", "format", "qcow2", "size", 4611686018427387904L));

        assertProblem(r, 400);
        assertThat(dataRoot.resolve("huge.qcow2")).doesNotExist();
    }

    @Test
    void aPageTokenThatIsNotBase64TextIs400() throws IOException {
        Raw r = raw("GET /images?pageToken=%00%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        r.assertProblem(400);
    }

    @Test
    void aVeryLongJobIdIs400AndNoJobIsCreated() {
        String id = "j" + "x".repeat(9999);

        Reply r = post("/jobs/stream", Map.of("jobId", id, "device", "nosuchnode"));

        assertProblem(r, 400);
        assertThat(r.text("detail")).contains("jobId");
        assertThat(r.raw()).doesNotContain("x".repeat(200));
    }

    @Test
    void connectIsAProblem() throws IOException {
        raw("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n")
                .assertProblem(405, 501);
    }

    @Test
    void traceIsA405Problem() throws IOException {
        raw("TRACE /images HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").assertProblem(405);
    }

    @Test
    void anEncodedNulInThePathIsA400Problem() throws IOException {
        raw("GET /nodes/%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").assertProblem(400);
    }

    @Test
    void anEncodedSlashInThePathIsA400Problem() throws IOException {
        raw("GET /nodes/a%2fb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").assertProblem(400);
    }

    @Test
    void anInvalidUtf8EscapeInThePathIsA400Problem() throws IOException {
        raw("GET /nodes/%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").assertProblem(400, 404);
    }

    @Test
    void aPathLongerThanTheHeaderLimitIsAProblem() throws IOException {
        raw("GET /nodes/" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .assertProblem(400, 414);
    }

    @Test
    void aControlCharacterInAHeaderIsA400Problem() throws IOException {
        raw("GET /nodes HTTP/1.1\r\nHost: x\r\nX-Evil: a\u0001b\r\nConnection: close\r\n\r\n")
                .assertProblem(400);
    }

    // ------------------------------------------------------------------ helpers

    private Reply post(String uri, Object body) {
        return Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange());
    }

    /** One request written as is, the whole answer read back. */
    private Raw raw(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
            }
            return new Raw(out.toString(StandardCharsets.UTF_8));
        }
    }

    /** A raw HTTP/1.1 answer. */
    record Raw(String text) {

        int status() {
            String[] first = text.split("\r\n", 2)[0].split(" ");
            return first.length > 1 ? Integer.parseInt(first[1]) : -1;
        }

        String headers() {
            int end = text.indexOf("\r\n\r\n");
            return end < 0 ? text : text.substring(0, end);
        }

        String body() {
            int end = text.indexOf("\r\n\r\n");
            return end < 0 ? "" : text.substring(end + 4);
        }

        void assertProblem(Integer... statuses) {
            assertThat(status()).as("%s", text).isIn((Object[]) statuses);
            assertThat(headers().toLowerCase()).as("%s", text).contains("content-type: application/problem+json");
            assertThat(body())
                    .as("%s", text)
                    .contains("\"type\":\"https://blockpull.dev/problems/")
                    .contains("\"errorClass\"")
                    .doesNotContain("<html", "<!doctype");
        }
    }
}
