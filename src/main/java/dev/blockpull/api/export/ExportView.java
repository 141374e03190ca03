package dev.blockpull.api.export;

import dev.blockpull.api.EntityTags;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/** One export, like an entry of query-block-exports. */
@Schema(name = "Export")
record ExportView(
        @Schema(description = "Export id and NBD export name", example = "vm1")
        String id,

        @Schema(description = "The exported node", example = "top")
        String nodeName,

        @Schema(description = "Whether clients may write") boolean writable,
        @Schema(description = "Size clients see, in bytes") long size,
        @Schema(description = "NBD clients connected now") int clients,

        @Schema(description = "NBD requests being processed now")
        int inFlightRequests,

        @Schema(
                description = "Subjects of the client certificates that may list and open the export, as RFC 4514 "
                        + "writes them; empty: any client")
        List<String> allowedClientSubjects)
        implements EntityTags.LiveView<ExportView> {

    /** What the ETag covers: everything but the clients and requests of the moment. */
    @Override
    public ExportView withoutLiveCounters() {
        return new ExportView(id, nodeName, writable, size, 0, 0, allowedClientSubjects);
    }
}
