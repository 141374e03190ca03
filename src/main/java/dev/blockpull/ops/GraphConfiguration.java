package dev.blockpull.ops;

import dev.blockpull.format.BackingResolver;
import dev.blockpull.graph.GraphSettings;
import dev.blockpull.graph.ImageFileOpener;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.io.DataRoot;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The one block graph of the service; closing the context flushes and closes every node. */
@Configuration(proxyBeanMethods = false)
class GraphConfiguration {

    /** Tests may declare an {@link ImageFileOpener} bean to put fault injection under the images. */
    @Bean(destroyMethod = "close")
    NodeGraph nodeGraph(
            DataRoot dataRoot,
            BackingResolver backingResolver,
            BlockpullProperties properties,
            ObjectProvider<ImageFileOpener> opener) {
        return new NodeGraph(
                dataRoot,
                backingResolver,
                new GraphSettings(
                        properties.graph().maxChainDepth(), properties.io().direct()),
                opener.getIfAvailable(() -> ImageFileOpener.confined(dataRoot)));
    }
}
