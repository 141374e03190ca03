package dev.blockpull.ops;

import dev.blockpull.graph.NodeGraph;
import dev.blockpull.nbd.ExportRegistry;
import dev.blockpull.nbd.NbdServer;
import dev.blockpull.nbd.NbdServerSettings;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The NBD data plane: the export registry and the server on {@code blockpull.nbd.port} (0 = off).
 * The registry is destroyed before the graph (it depends on it): its attachments are released
 * before the nodes close.
 *
 * <p>Two optional settings live here until they join {@link BlockpullProperties}:
 * {@code blockpull.nbd.bind-address} (default {@code 0.0.0.0}, every interface, as qemu-nbd) and
 * {@code blockpull.nbd.worker-threads} (default 16).
 */
@Configuration(proxyBeanMethods = false)
class NbdConfiguration {

    @Bean(destroyMethod = "close")
    ExportRegistry exportRegistry(NodeGraph graph) {
        return new ExportRegistry(graph);
    }

    @Bean
    NbdServerLifecycle nbdServerLifecycle(ExportRegistry registry, BlockpullProperties properties,
                                          @Value("${blockpull.nbd.bind-address:0.0.0.0}") String bindAddress,
                                          @Value("${blockpull.nbd.worker-threads:16}") int workerThreads) {
        int port = properties.nbd().port();
        NbdServer server = port == 0 ? null
                : new NbdServer(registry, NbdServerSettings.defaults(bindAddress, port).withWorkerThreads(workerThreads));
        return new NbdServerLifecycle(server);
    }
}
