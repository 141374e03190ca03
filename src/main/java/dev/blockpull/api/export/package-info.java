/** {@code /exports}: NBD exports of graph nodes. */
@NullMarked
package dev.blockpull.api.export;

import org.jspecify.annotations.NullMarked;
