package dev.blockpull.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.support.DefaultSingletonBeanRegistry;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.MergedContextConfiguration;
import org.springframework.util.FileSystemUtils;

/**
 * Makes a fresh data root for the context being built, points {@code blockpull.data-root} at it,
 * puts NBD on an ephemeral port, and deletes the root when the context closes. A shared context
 * keeps running while other classes run ({@link UnpausedLifecycleProcessor}).
 *
 * <p>A record, because its equality is part of the context cache key: every shared class carries
 * an equal customizer ({@code owner} null), a class with {@code shared = false} one of its own.
 */
record DataRootContextCustomizer(@Nullable Class<?> owner) implements ContextCustomizer {

    static final String DATA_ROOT = "blockpull.data-root";

    @Override
    public void customizeContext(ConfigurableApplicationContext context, MergedContextConfiguration config) {
        Path home = createHome();
        // below the test's own properties and @DynamicPropertySource values, above application.properties
        MapPropertySource source = new MapPropertySource(
                "blockpullHttpTest", Map.of(DATA_ROOT, home.resolve("data").toString(), "blockpull.nbd.port", "0"));
        context.getEnvironment()
                .getPropertySources()
                .addBefore(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME, source);
        // Registered before any bean, so destroyed after all of them: nothing writes into it any more.
        ((DefaultSingletonBeanRegistry) context.getBeanFactory())
                .registerDisposableBean("blockpullHttpTestHome", () -> FileSystemUtils.deleteRecursively(home));
        if (owner == null) {
            context.getBeanFactory()
                    .registerSingleton(UnpausedLifecycleProcessor.BEAN_NAME, new UnpausedLifecycleProcessor(context));
        }
    }

    private static Path createHome() {
        try {
            Path home = Files.createTempDirectory("blockpull-http-test-");
            Files.createDirectory(home.resolve("data"));
            return home;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
