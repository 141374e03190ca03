package dev.blockpull.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.blockpull.graph.GraphSettings;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.io.DataRoot;
import dev.blockpull.nbd.InsecureNbdBindException;
import dev.blockpull.nbd.TlsCredentials;
import dev.blockpull.nbd.TlsCredentialsException;
import dev.blockpull.testsupport.TestPki;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/** {@code blockpull.nbd.*} as the service starts with it: safe binding by default, TLS from PEM files. */
class NbdConfigurationTests {

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(BlockpullProperties.class)
    static class PropertiesOnly {}

    @TempDir
    Path root;

    private ApplicationContextRunner runner() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        DataRoot dataRoot = new DataRoot(root);
        return new ApplicationContextRunner()
                .withUserConfiguration(PropertiesOnly.class, NbdConfiguration.class)
                .withBean(
                        NodeGraph.class,
                        () -> new NodeGraph(
                                dataRoot,
                                (image, ref) -> dataRoot.resolveBacking(image, ref.fileName()),
                                new GraphSettings(16, false)))
                .withPropertyValues("blockpull.nbd.port=" + port);
    }

    @Test
    void theNbdServerListensOnLoopbackWithoutTlsByDefault() throws IOException {
        runner().run(context -> {
            BlockpullProperties.Nbd nbd =
                    context.getBean(BlockpullProperties.class).nbd();
            assertThat(nbd.bindAddress()).isEqualTo("127.0.0.1");
            assertThat(nbd.allowInsecure()).isFalse();
            assertThat(nbd.tls().certificate()).isNull();
            assertThat(context.getBean(NbdServerLifecycle.class).server())
                    .get()
                    .satisfies(s -> assertThat(s.isRunning()).isTrue());
        });
    }

    @Test
    void everyInterfaceWithoutTlsStopsStartUpWithWhatToDo() throws IOException {
        runner().withPropertyValues("blockpull.nbd.bind-address=0.0.0.0")
                .run(context -> assertThat(context)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(InsecureNbdBindException.class)
                        .hasMessageContaining("blockpull.nbd.allow-insecure=true"));
    }

    @Test
    void everyInterfaceWithoutTlsStartsWhenAllowedInsecure() throws IOException {
        runner().withPropertyValues("blockpull.nbd.bind-address=0.0.0.0", "blockpull.nbd.allow-insecure=true")
                .run(context -> assertThat(
                                context.getBean(NbdServerLifecycle.class).server())
                        .get()
                        .satisfies(s -> assertThat(s.isRunning()).isTrue()));
    }

    @Test
    void everyInterfaceWithTlsFilesStarts() throws IOException {
        TestPki.ServerFiles files = TestPki.create(root.resolve("ca"), "CA").server(root.resolve("tls"), "localhost");
        runner().withPropertyValues(
                        "blockpull.nbd.bind-address=0.0.0.0",
                        "blockpull.nbd.tls.certificate=" + files.certificate(),
                        "blockpull.nbd.tls.private-key=" + files.privateKey(),
                        "blockpull.nbd.tls.ca=" + files.caCertificate())
                .run(context -> assertThat(
                                context.getBean(NbdServerLifecycle.class).server())
                        .get()
                        .satisfies(s -> assertThat(s.isRunning()).isTrue()));
    }

    @Test
    void aStartUpStoppedByNbdSettingsIsReportedWithTheMessageNotAStackTrace() {
        Throwable failure = new IllegalStateException(
                "Failed to start bean 'nbdServerLifecycle'",
                assertThrows(TlsCredentialsException.class, () -> TlsCredentials.of(root, null, null)));

        FailureAnalysis analysis = new NbdFailureAnalyzer().analyze(failure);

        assertThat(analysis.getDescription()).contains("needs both blockpull.nbd.tls.certificate");
        assertThat(analysis.getAction()).contains("blockpull.nbd.*");
    }

    @Test
    void aCertificateWithoutItsKeyStopsStartUp() throws IOException {
        runner().withPropertyValues("blockpull.nbd.tls.certificate=" + root.resolve("server-cert.pem"))
                .run(context -> assertThat(context)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .isInstanceOf(TlsCredentialsException.class)
                        .hasMessageContaining("blockpull.nbd.tls.private-key"));
    }
}
