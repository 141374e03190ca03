/**
 * Graph floor: block nodes (protocol, format, filter) and their links, the node registry, the
 * copy-on-read filter, frozen links, permissions, op blockers, in-flight request tracking and
 * drain. Plain Java: the floors above (job, stream, nbd, api) build on it.
 */
@NullMarked
package dev.blockpull.graph;

import org.jspecify.annotations.NullMarked;
