/** {@code /nodes}: the block graph, like QEMU's blockdev-add, query-named-block-nodes and blockdev-del. */
@NullMarked
package dev.blockpull.api.node;

import org.jspecify.annotations.NullMarked;
