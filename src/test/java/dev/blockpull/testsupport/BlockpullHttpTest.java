package dev.blockpull.testsupport;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.annotation.AliasFor;
import org.springframework.test.context.ContextCustomizerFactories;

/**
 * The service on a random HTTP port with a {@code RestTestClient} to call it, an NBD server on
 * an ephemeral port and a data root of its own: the set-up of every full-stack HTTP test.
 *
 * <p>The data root is {@code data} in a temporary directory that belongs to the context: it is
 * made when the context starts and deleted when the context closes, after the service stopped
 * writing to it (a per-class {@code @TempDir} was deleted while the cached context still recorded
 * its state there). Its parent is the context's too, for files a test wants beside the root.
 * A static {@link ServiceDataRoot} field of the test class receives the root's path.
 *
 * <p>Classes with the same {@link #properties()} share one context and one data root, so Spring
 * boots once for all of them; such classes must not collide in file, node, job or export names
 * nor count what the others leave behind. A class that lists, counts or measures the whole
 * service, or leaves work running, declares {@code shared = false} and gets a context alone.
 *
 * <p>{@code @DynamicPropertySource} still works for values known only at run time (ports,
 * certificates); it makes a context of its own anyway.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
@ContextCustomizerFactories(DataRootContextCustomizerFactory.class)
@ExtendWith(ServiceDataRootExtension.class)
public @interface BlockpullHttpTest {

    /** Properties of this context in {@code key=value} form, as {@link SpringBootTest#properties()}. */
    @AliasFor(annotation = SpringBootTest.class, attribute = "properties")
    String[] properties() default {};

    /** {@code false}: a context and data root for this class alone (see the class comment). */
    boolean shared() default true;
}
