package dev.blockpull.testsupport;

import java.lang.reflect.Field;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.HierarchyTraversalMode;
import org.junit.platform.commons.support.ModifierSupport;
import org.junit.platform.commons.support.ReflectionSupport;
import org.springframework.test.context.junit.jupiter.SpringExtension;

/** Sets the {@link ServiceDataRoot} field of a test class from its (possibly cached) context. */
class ServiceDataRootExtension implements BeforeAllCallback {

    @Override
    public void beforeAll(ExtensionContext extension) throws IllegalAccessException {
        Class<?> testClass = extension.getRequiredTestClass();
        var fields = ReflectionSupport.findFields(
                testClass, f -> f.isAnnotationPresent(ServiceDataRoot.class), HierarchyTraversalMode.TOP_DOWN);
        if (fields.isEmpty()) {
            return;
        }
        Path root = Path.of(SpringExtension.getApplicationContext(extension)
                .getEnvironment()
                .getRequiredProperty(DataRootContextCustomizer.DATA_ROOT));
        for (Field field : fields) {
            if (!ModifierSupport.isStatic(field) || field.getType() != Path.class) {
                throw new IllegalStateException("@ServiceDataRoot goes on a static Path field, not on " + field);
            }
            field.setAccessible(true);
            field.set(null, root);
        }
    }
}
