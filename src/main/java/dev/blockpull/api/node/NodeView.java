package dev.blockpull.api.node;

import dev.blockpull.api.EntityTags;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** One node, like an entry of query-named-block-nodes. */
@Schema(name = "Node")
record NodeView(
        @Schema(description = "Node name; generated names start with '#'")
        String nodeName,

        @Schema(description = "Driver", example = "qcow2") String driver,

        @Schema(description = "Image file relative to the data root (a filter's: its child's)") @Nullable
        String filename,

        @Schema(description = "Guest size in bytes") long virtualSize,
        boolean readOnly,

        @Schema(description = "Node name of the backing (COW) child, or null") @Nullable
        String backing,

        @Schema(description = "Node name of the file child (a filter's: its filtered child)") @Nullable
        String file,

        @Schema(description = "A filter a job inserted without a name")
        boolean implicit,

        @Schema(description = "Requests in flight on this node now")
        int inFlightRequests,

        @Schema(description = "The link to the next node of the chain is frozen by a job")
        boolean frozen,

        @Schema(description = "Ids of the jobs and exports holding the node")
        List<String> usedBy,

        @Schema(description = "The lowest layer a copy-on-read filter copies from") @Nullable
        String bottom)
        implements EntityTags.LiveView<NodeView> {

    /**
     * What the ETag covers: everything but the requests in flight, which change with every I/O
     * (as a job's tag leaves out its throughput).
     */
    @Override
    public NodeView withoutLiveCounters() {
        return new NodeView(
                nodeName, driver, filename, virtualSize, readOnly, backing, file, implicit, 0, frozen, usedBy, bottom);
    }
}
