package dev.blockpull.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.blockpull.testsupport.TestPki;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plain NBD, which has no authentication, listens beyond loopback only when TLS is on or it is explicitly allowed. */
class NbdServerExposureTests {

    @TempDir
    Path root;

    NbdFixture nbd;
    NbdServer server;

    @BeforeEach
    void setUp() {
        nbd = new NbdFixture(root);
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
        nbd.close();
    }

    @Test
    void everyInterfaceWithoutTlsIsRefusedWithTheWaysOut() {
        server = new NbdServer(nbd.exports, NbdServerSettings.defaults("0.0.0.0", 0));

        assertThatThrownBy(server::start)
                .isInstanceOf(InsecureNbdBindException.class)
                .hasMessageContaining("0.0.0.0, which is not a loopback address")
                .hasMessageContaining("blockpull.nbd.tls.certificate")
                .hasMessageContaining("blockpull.nbd.allow-insecure=true");
        assertThat(server.isRunning()).isFalse();
        assertThat(server.port()).isEqualTo(-1);
    }

    @Test
    void loopbackNamesNeedNoTls() {
        server = new NbdServer(nbd.exports, NbdServerSettings.defaults("localhost", 0));

        server.start();

        assertThat(server.isRunning()).isTrue();
    }

    @Test
    void allowInsecureListensOnEveryInterfaceWithoutTls() {
        server = new NbdServer(
                nbd.exports, NbdServerSettings.defaults("0.0.0.0", 0).withAllowInsecure(true));

        server.start();

        assertThat(server.isRunning()).isTrue();
    }

    @Test
    void withTlsEveryInterfaceIsFine() {
        TestPki.ServerFiles files =
                TestPki.create(root.resolve("ca"), "CA").server(root.resolve("server"), "localhost");
        server = new NbdServer(
                nbd.exports,
                NbdServerSettings.defaults("0.0.0.0", 0),
                TlsCredentials.of(files.certificate(), files.privateKey(), null));

        server.start();

        assertThat(server.isRunning()).isTrue();
    }
}
