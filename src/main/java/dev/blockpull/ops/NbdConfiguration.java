package dev.blockpull.ops;

import dev.blockpull.graph.NodeGraph;
import dev.blockpull.nbd.ExportRegistry;
import dev.blockpull.nbd.NbdServer;
import dev.blockpull.nbd.NbdServerSettings;
import dev.blockpull.nbd.TlsCredentials;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The NBD data plane: the export registry and the server on {@code blockpull.nbd.port} (0 = off),
 * with TLS when {@code blockpull.nbd.tls.*} name the files (they are loaded here, so bad files stop start-up).
 * The registry is destroyed before the graph (it depends on it): its attachments are released
 * before the nodes close.
 */
@Configuration(proxyBeanMethods = false)
class NbdConfiguration {

    @Bean(destroyMethod = "close")
    ExportRegistry exportRegistry(NodeGraph graph) {
        return new ExportRegistry(graph);
    }

    @Bean
    NbdServerLifecycle nbdServerLifecycle(ExportRegistry registry, BlockpullProperties properties) {
        BlockpullProperties.Nbd nbd = properties.nbd();
        if (nbd.port() == 0) {
            return new NbdServerLifecycle(null);
        }
        BlockpullProperties.NbdTls tls = nbd.tls();
        NbdServer server = new NbdServer(
                registry,
                NbdServerSettings.defaults(nbd.bindAddress(), nbd.port())
                        .withWorkerThreads(nbd.workerThreads())
                        .withConnectionLimits(nbd.maxConnections(), nbd.maxConnectionsPerClient())
                        .withHandshakeTimeout(nbd.handshakeTimeout())
                        .withBusyPoll(nbd.busyPoll())
                        .withAllowInsecure(nbd.allowInsecure()),
                TlsCredentials.of(tls.certificate(), tls.privateKey(), tls.ca()));
        return new NbdServerLifecycle(server);
    }
}
