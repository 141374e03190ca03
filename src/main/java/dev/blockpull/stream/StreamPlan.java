package dev.blockpull.stream;

import dev.blockpull.graph.BlockNode;
import org.jspecify.annotations.Nullable;

/**
 * A request that passed the argument checks of stream-semantics §2.1 (steps 1–9).
 *
 * @param request            what the user asked for
 * @param device             the node named by {@code device} (may be a filter)
 * @param base               the base node ({@code base} or {@code baseNode}); null with
 *                           {@code bottom} or when the whole chain is streamed
 * @param bottom             the {@code bottom} node, or null
 * @param jobId              the job id to create (the default applied)
 * @param backingMaskProtocol write {@code raw} as backing format when the base is a protocol node
 */
record StreamPlan(
        StreamRequest request,
        BlockNode device,
        @Nullable BlockNode base,
        @Nullable BlockNode bottom,
        String jobId,
        boolean backingMaskProtocol) {}
