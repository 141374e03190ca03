package dev.blockpull.api.node;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.swagger.v3.oas.annotations.media.Schema;
import org.jspecify.annotations.Nullable;

/** One row of {@code qemu-img map --output=json}, with the same member names. */
@Schema(name = "MapEntry")
record MapEntryView(
        long start,
        long length,

        @Schema(
                description = "Layer providing the bytes, 0 = the node itself; for runs no layer holds, the "
                        + "depth where the lookup stopped")
        int depth,

        @Schema(description = "Allocated in some layer") boolean present,
        @Schema(description = "Reads as zeros") boolean zero,
        @Schema(description = "Holds data") boolean data,

        @Schema(description = "Host offset in the providing layer's file, when there is one")
        @JsonInclude(JsonInclude.Include.NON_NULL)
        @Nullable
        Long offset) {}
