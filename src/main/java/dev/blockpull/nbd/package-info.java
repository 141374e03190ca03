/**
 * NBD server: exports of graph nodes to real clients (qemu, libnbd, the Linux kernel), speaking
 * the fixed-newstyle protocol of the NetworkBlockDevice project's {@code doc/proto.md}. Each export
 * is an {@link dev.blockpull.graph.Attachment} of its node, so every NBD request is in-flight I/O
 * of the node, waits while the node is drained, and passes a stream job's copy-on-read filter.
 * Plain Java: no Spring here.
 */
@NullMarked
package dev.blockpull.nbd;

import org.jspecify.annotations.NullMarked;
