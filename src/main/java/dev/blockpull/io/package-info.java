/**
 * The lowest floor: positional file I/O, the fault-injecting wrapper for tests, data-root
 * confinement and the {@link dev.blockpull.io.BlockException} family; also the
 * {@link dev.blockpull.io.Monitor} (a lock with one condition) that the floors above share. No
 * Spring here.
 */
@NullMarked
package dev.blockpull.io;

import org.jspecify.annotations.NullMarked;
