package dev.blockpull.api.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.api.Reply;
import dev.blockpull.testsupport.ProcessResult;
import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/** HTTP and NBD helpers of the export API tests. */
final class ExportApi {

    private final RestTestClient client;
    private final int nbdPort;

    ExportApi(RestTestClient client, int nbdPort) {
        this.client = client;
        this.nbdPort = nbdPort;
    }

    /** A loopback port free right now, for the NBD listener of a test context. */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String uri(String exportId) {
        return "nbd://127.0.0.1:" + nbdPort + "/" + exportId;
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

    Reply patch(String uri, String json) {
        return Reply.of(client.patch()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(json)
                .exchange());
    }

    Reply delete(String uri) {
        return Reply.of(client.delete().uri(uri).exchange());
    }

    /** qemu-io against an export; fails on a non-zero exit or output that mentions a failure. */
    static void io(QemuTools qemu, String uri, String... commands) {
        String[] args = new String[3 + 2 * commands.length];
        args[0] = "-f";
        args[1] = "raw";
        for (int i = 0; i < commands.length; i++) {
            args[2 + 2 * i] = "-c";
            args[3 + 2 * i] = commands[i];
        }
        args[args.length - 1] = uri;
        ProcessResult r = qemu.qemuIo(args);
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.output().toLowerCase())
                .as(r.describe())
                .doesNotContain("fail")
                .doesNotContain("error");
    }
}
