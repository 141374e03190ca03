/**
 * Operations floor: configuration, health indicators, metrics binders, graceful shutdown.
 * Spring lives here and above; the floors below stay plain Java.
 */
@NullMarked
package dev.blockpull.ops;

import org.jspecify.annotations.NullMarked;
