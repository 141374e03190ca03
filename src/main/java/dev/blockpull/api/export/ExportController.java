package dev.blockpull.api.export;

import dev.blockpull.api.EntityTags;
import dev.blockpull.api.IdempotencyKeys;
import dev.blockpull.api.Paging;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import java.net.URI;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.UriComponentsBuilder;

@RestController
@RequestMapping("/exports")
@Tag(
        name = "exports",
        description = "NBD exports of nodes (block-export-add / query-block-exports / block-export-del): "
                + "nbd://HOST:PORT/ID for qemu, qemu-img, qemu-io, nbdinfo and the Linux kernel")
class ExportController {

    private final ExportCatalog exports;
    private final IdempotencyKeys idempotency;
    private final EntityTags tags;

    ExportController(ExportCatalog exports, IdempotencyKeys idempotency, EntityTags tags) {
        this.exports = exports;
        this.idempotency = idempotency;
        this.tags = tags;
    }

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(
            operationId = "createExport",
            summary = "Serve a node over NBD (block-export-add)",
            description = "The export attaches to the node: its requests count as the node's in-flight I/O, wait while "
                    + "the node is drained, and pass a stream job's copy-on-read filter. The node cannot be deleted "
                    + "while exported.")
    @ApiResponse(
            responseCode = "201",
            description = "Exported",
            headers = {
                @Header(name = "Location", description = "/exports/{id}"),
                @Header(name = "ETag", description = "Version of the export")
            })
    @ApiResponse(responseCode = "400", description = "Invalid id or body")
    @ApiResponse(responseCode = "404", description = "No such node")
    @ApiResponse(responseCode = "409", description = "The id is in use, or a writable export of a read-only node")
    ResponseEntity<ExportView> createExport(
            @Valid @RequestBody CreateExportRequest request,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
                    @RequestHeader(name = IdempotencyKeys.HEADER, required = false)
                    @Nullable
                    String idempotencyKey) {
        return idempotency.run(idempotencyKey, List.of("POST /exports", request), () -> {
            ExportView view = exports.create(request);
            return tags.created(location(view.id()), view);
        });
    }

    @GetMapping
    @Operation(
            operationId = "listExports",
            summary = "Exports with their client counts (query-block-exports)",
            description = "Sorted by id, paged with a cursor: a Link header with rel=\"next\" when more follow.")
    @ApiResponse(
            responseCode = "200",
            description = "One page of exports",
            headers = @Header(name = "Link", description = "<...pageToken=...>; rel=\"next\" when more follow"))
    @ApiResponse(responseCode = "400", description = "Bad pageSize or pageToken")
    ResponseEntity<List<ExportView>> listExports(
            @Parameter(description = "Items per page, 1..1000")
                    @RequestParam(defaultValue = "" + Paging.DEFAULT_PAGE_SIZE)
                    @Min(1)
                    @Max(Paging.MAX_PAGE_SIZE)
                    int pageSize,
            @Parameter(description = "Cursor from the previous page's Link header")
                    @RequestParam(required = false)
                    @Nullable
                    String pageToken) {
        Paging.Page<ExportView> page = exports.list(pageSize, pageToken);
        return ResponseEntity.ok().headers(page.headers(pageSize)).body(page.items());
    }

    @GetMapping("/{id}")
    @Operation(
            operationId = "getExport",
            summary = "One export",
            description = "With its ETag, which covers everything but the clients and requests of the moment; "
                    + "If-None-Match with the current tag answers 304 without a body.")
    @ApiResponse(
            responseCode = "200",
            description = "The export",
            headers = @Header(name = "ETag", description = "Version of the export"))
    @ApiResponse(responseCode = "304", description = "If-None-Match holds the current ETag: not modified")
    @ApiResponse(responseCode = "404", description = "No such export")
    ResponseEntity<ExportView> getExport(@PathVariable String id) {
        ExportView export = exports.get(id);
        return tags.ok(export);
    }

    @DeleteMapping("/{id}")
    @Operation(
            operationId = "deleteExport",
            summary = "Stop serving (block-export-del)",
            description = "New connections and requests are refused at once; requests in flight finish (up to twice "
                    + "blockpull.graph.drain-timeout), then the clients are disconnected and the node is released.")
    @ApiResponse(responseCode = "204", description = "Removed; its requests have been answered")
    @ApiResponse(responseCode = "404", description = "No such export")
    @ApiResponse(responseCode = "412", description = "If-Match does not match the current ETag")
    ResponseEntity<Void> deleteExport(
            @PathVariable String id,
            @Parameter(description = "Remove only if the export still has this ETag")
                    @RequestHeader(name = HttpHeaders.IF_MATCH, required = false)
                    @Nullable
                    String ifMatch) {
        tags.checkIfMatch(ifMatch, () -> exports.get(id), "Export '" + id + "'");
        exports.delete(id);
        return ResponseEntity.noContent().build();
    }

    private static URI location(String id) {
        return UriComponentsBuilder.fromPath("/exports/{id}")
                .buildAndExpand(id)
                .encode()
                .toUri();
    }
}
