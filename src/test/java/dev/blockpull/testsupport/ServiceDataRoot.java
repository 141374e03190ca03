package dev.blockpull.testsupport;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the static {@code Path} field of a {@link BlockpullHttpTest} class that receives the
 * data root of its context, before any {@code @BeforeAll} method runs.
 */
@Target(ElementType.FIELD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface ServiceDataRoot {}
