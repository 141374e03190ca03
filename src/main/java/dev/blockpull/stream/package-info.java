/**
 * The stream job: QEMU's block-stream. Argument checks and graph set-up (start), the copy loop
 * (run), completion (prepare/clean). Plain Java: no Spring here.
 */
@NullMarked
package dev.blockpull.stream;

import org.jspecify.annotations.NullMarked;
