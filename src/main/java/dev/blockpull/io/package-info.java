/**
 * The lowest floor: positional file I/O, the fault-injecting wrapper for tests, data-root
 * confinement and the {@link dev.blockpull.io.BlockException} family. No Spring here.
 */
@NullMarked
package dev.blockpull.io;

import org.jspecify.annotations.NullMarked;
