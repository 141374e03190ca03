package dev.blockpull.testsupport;

import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.annotation.MergedAnnotations.SearchStrategy;
import org.springframework.test.context.ContextConfigurationAttributes;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.ContextCustomizerFactory;

/** Gives each {@link BlockpullHttpTest} context its data root; see {@link DataRootContextCustomizer}. */
class DataRootContextCustomizerFactory implements ContextCustomizerFactory {

    @Override
    public @Nullable ContextCustomizer createContextCustomizer(
            Class<?> testClass, List<ContextConfigurationAttributes> configAttributes) {
        var test =
                MergedAnnotations.from(testClass, SearchStrategy.TYPE_HIERARCHY).get(BlockpullHttpTest.class);
        if (!test.isPresent()) {
            return null;
        }
        return new DataRootContextCustomizer(test.getBoolean("shared") ? null : testClass);
    }
}
