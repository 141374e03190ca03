package dev.blockpull.stream;

import dev.blockpull.format.BackingReference;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.DrainParticipant;
import dev.blockpull.graph.DrainedSection;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.graph.ProtocolNode;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * QEMU's stream_prepare (stream-semantics §4.1): drop the filter, then, inside a drained section
 * over the top, re-read the base, point the top's backing link at it and rewrite the header.
 * The header names the new base only after every copied cluster is durable (qcow2-notes §9.2):
 * the top is flushed first, so a crash leaves either the old chain with the copies (same
 * content) or the new one.
 */
final class StreamCompletion {

    private static final Logger log = LoggerFactory.getLogger(StreamCompletion.class);

    /** strerror(EPERM): QEMU's stream_prepare returns -EPERM when the link cannot be set. */
    static final String EPERM = "Operation not permitted";

    private final NodeGraph graph;
    private final StreamPlan plan;
    private final StreamRoles roles;
    private final StreamResources resources;

    StreamCompletion(NodeGraph graph, StreamPlan plan, StreamRoles roles, StreamResources resources) {
        this.graph = graph;
        this.plan = plan;
        this.roles = roles;
        this.resources = resources;
    }

    void prepare(@Nullable DrainParticipant self) {
        // The filter holds the chain frozen: it goes first.
        resources.dropFilter(self);
        if (!(roles.top() instanceof FormatNode top) || BackingChain.cow(top) == null) {
            return; // nothing below the top: no link and no header to change
        }
        try (DrainedSection section = graph.drain(top, self, null)) {
            // The header names the base's data node, which a filter dropped meanwhile does not change.
            BlockNode base = roles.currentBase();
            BackingReference reference = backingReference(plan, top, base);
            try {
                base = graph.setBackingToNextOf(section, top, roles.aboveBase());
            } catch (RuntimeException e) {
                log.warn("Cannot point {} at {}: {}", top.name(), base == null ? "nothing" : base.name(), e.toString());
                throw new BlockException(BlockErrorKind.CONFLICT, EPERM, e);
            }
            top.flush();
            top.changeBackingFile(reference);
            log.info(
                    "Stream into {} done: backing {} ({})",
                    top.name(),
                    base == null ? "none" : base.name(),
                    reference == null ? "header backing removed" : "header names '" + reference.fileName() + "'");
        }
    }

    /**
     * What the header will name: the {@code backingFile} string verbatim if given, else the
     * base's file relative to the top's directory (how qemu-img writes it and how it is resolved
     * again); the format is the base's (filters skipped), or raw for a protocol node with
     * {@code backingMaskProtocol}. No base: no reference.
     */
    static @Nullable BackingReference backingReference(StreamPlan plan, FormatNode top, @Nullable BlockNode base) {
        if (base == null) {
            return null;
        }
        BlockNode data = BackingChain.skipFilters(base);
        ImageFormat format = null;
        if (data instanceof FormatNode f) {
            format = f.format();
        } else if (data instanceof ProtocolNode && plan.backingMaskProtocol()) {
            format = ImageFormat.RAW;
        }
        String name = plan.request().backingFile();
        if (name == null) {
            Path basePath = data.path();
            if (basePath == null) {
                throw new BlockException(
                        BlockErrorKind.INVALID_ARGUMENT,
                        "Node '" + data.name() + "' has no file name to write into the header of '" + top.name() + "'");
            }
            Path dir = top.path().toAbsolutePath().getParent();
            name = dir.relativize(basePath.toAbsolutePath()).toString();
        }
        return new BackingReference(name, format);
    }
}
