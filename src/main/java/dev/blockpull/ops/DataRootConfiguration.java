package dev.blockpull.ops;

import dev.blockpull.format.BackingResolver;
import dev.blockpull.io.DataRoot;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The data root every floor confines its file names to, made once from the configuration, and
 * the one policy for backing-file strings found inside images: they resolve through it too.
 */
@Configuration(proxyBeanMethods = false)
class DataRootConfiguration {

    @Bean
    DataRoot dataRoot(BlockpullProperties properties) {
        return new DataRoot(properties.dataRoot(), properties.stateDirectory());
    }

    @Bean
    BackingResolver backingResolver(DataRoot dataRoot) {
        return (image, reference) -> dataRoot.resolveBacking(image, reference.fileName());
    }
}
