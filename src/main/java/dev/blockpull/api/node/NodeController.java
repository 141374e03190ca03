package dev.blockpull.api.node;

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
import jakarta.validation.constraints.PositiveOrZero;
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
@RequestMapping("/nodes")
@Tag(name = "nodes", description = "The block graph, like blockdev-add / query-named-block-nodes / blockdev-del")
class NodeController {

    private final NodeCatalog nodes;
    private final IdempotencyKeys idempotency;
    private final EntityTags tags;

    NodeController(NodeCatalog nodes, IdempotencyKeys idempotency, EntityTags tags) {
        this.nodes = nodes;
        this.idempotency = idempotency;
        this.tags = tags;
    }

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(
            operationId = "openNode",
            summary = "Open an image and its backing chain as nodes (blockdev-add)",
            description = "With backing omitted, the chain named in the image headers is opened too, with generated "
                    + "'#block...' names. All-or-nothing: on any error nothing stays open.")
    @ApiResponse(
            responseCode = "201",
            description = "Opened; the body is the top node",
            headers = {
                @Header(name = "Location", description = "/nodes/{nodeName}"),
                @Header(name = "ETag", description = "Version of the node")
            })
    @ApiResponse(
            responseCode = "400",
            description = "Bad arguments, an invalid node name, a file or backing file "
                    + "outside the data root, a chain too deep or with a loop, an invalid image")
    @ApiResponse(responseCode = "404", description = "The image file or the referenced backing node does not exist")
    @ApiResponse(responseCode = "409", description = "Duplicate node name, or the file is open already")
    ResponseEntity<NodeView> openNode(
            @Valid @RequestBody OpenNodeRequest request,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
                    @RequestHeader(name = IdempotencyKeys.HEADER, required = false)
                    @Nullable
                    String idempotencyKey) {
        return idempotency.run(idempotencyKey, List.of("POST /nodes", request), () -> {
            NodeView top = nodes.open(request);
            return tags.created(location(top.nodeName()), top);
        });
    }

    @GetMapping
    @Operation(
            operationId = "listNodes",
            summary = "All nodes (query-named-block-nodes)",
            description = "Sorted by name, paged with a cursor: a Link header with rel=\"next\" when more follow.")
    @ApiResponse(
            responseCode = "200",
            description = "One page of nodes",
            headers = @Header(name = "Link", description = "<...pageToken=...>; rel=\"next\" when more follow"))
    @ApiResponse(responseCode = "400", description = "Bad pageSize or pageToken")
    ResponseEntity<List<NodeView>> listNodes(
            @Parameter(description = "Items per page, 1..1000")
                    @RequestParam(defaultValue = "" + Paging.DEFAULT_PAGE_SIZE)
                    @Min(1)
                    @Max(Paging.MAX_PAGE_SIZE)
                    int pageSize,
            @Parameter(description = "Cursor from the previous page's Link header")
                    @RequestParam(required = false)
                    @Nullable
                    String pageToken) {
        Paging.Page<NodeView> page = nodes.list(pageSize, pageToken);
        return ResponseEntity.ok().headers(page.headers(pageSize)).body(page.items());
    }

    @GetMapping("/{nodeName}")
    @Operation(
            operationId = "getNode",
            summary = "One node",
            description = "With its ETag, which changes with every change of the node but not with its requests in "
                    + "flight; If-None-Match with the current tag answers 304 without a body.")
    @ApiResponse(
            responseCode = "200",
            description = "The node",
            headers = @Header(name = "ETag", description = "Version of the node"))
    @ApiResponse(responseCode = "304", description = "If-None-Match holds the current ETag: not modified")
    @ApiResponse(responseCode = "404", description = "No such node")
    ResponseEntity<NodeView> getNode(@PathVariable String nodeName) {
        NodeView node = nodes.get(nodeName);
        return tags.ok(node);
    }

    @GetMapping("/{nodeName}/chain")
    @Operation(
            operationId = "getNodeChain",
            summary = "The node and every node below it, top first",
            description = "Follows filtered children of filters and backing children of format nodes.")
    @ApiResponse(responseCode = "200", description = "The chain, top first")
    @ApiResponse(responseCode = "404", description = "No such node")
    List<NodeView> getNodeChain(@PathVariable String nodeName) {
        return nodes.chain(nodeName);
    }

    @GetMapping("/{nodeName}/map")
    @Operation(
            operationId = "mapNode",
            summary = "Allocation of the chain, like qemu-img map --output=json",
            description = "Runs with start, length, the depth of the providing layer (0 = this node; filters not "
                    + "counted), present, zero, data and the host offset where there is one.")
    @ApiResponse(responseCode = "200", description = "The map")
    @ApiResponse(responseCode = "400", description = "Negative offset or length")
    @ApiResponse(responseCode = "404", description = "No such node")
    List<MapEntryView> mapNode(
            @PathVariable String nodeName,
            @Parameter(description = "First byte; default 0") @RequestParam(defaultValue = "0") @PositiveOrZero
                    long offset,
            @Parameter(description = "Bytes; default: to the end of the node")
                    @RequestParam(required = false)
                    @PositiveOrZero
                    @Nullable
                    Long length) {
        return nodes.map(nodeName, offset, length);
    }

    @DeleteMapping("/{nodeName}")
    @Operation(
            operationId = "deleteNode",
            summary = "Close a node (blockdev-del)",
            description = "Implicit nodes below it that nothing else uses close with it.")
    @ApiResponse(responseCode = "204", description = "Closed")
    @ApiResponse(responseCode = "404", description = "No such node")
    @ApiResponse(
            responseCode = "409",
            description = "A job, an export or a parent node uses it, or it is an implicit node")
    @ApiResponse(responseCode = "412", description = "If-Match does not match the current ETag")
    ResponseEntity<Void> deleteNode(
            @PathVariable String nodeName,
            @Parameter(description = "Close only if the node still has this ETag")
                    @RequestHeader(name = HttpHeaders.IF_MATCH, required = false)
                    @Nullable
                    String ifMatch) {
        tags.checkIfMatch(ifMatch, () -> nodes.get(nodeName), "Node '" + nodeName + "'");
        nodes.delete(nodeName);
        return ResponseEntity.noContent().build();
    }

    @PostMapping(path = "/{nodeName}/snapshot", consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(
            operationId = "snapshotNode",
            summary = "New qcow2 overlay as the active top (blockdev-snapshot-sync)",
            description = "Creates the overlay with the node as its backing file (name relative to the overlay's "
                    + "directory, with the format), opens it read-write, points the node's parents and users at "
                    + "it, and reopens the node read-only.")
    @ApiResponse(
            responseCode = "201",
            description = "The overlay node",
            headers = {
                @Header(name = "Location", description = "/nodes/{snapshotNodeName}"),
                @Header(name = "ETag", description = "Version of the overlay node")
            })
    @ApiResponse(responseCode = "400", description = "Bad arguments or a file outside the data root")
    @ApiResponse(responseCode = "404", description = "No such node")
    @ApiResponse(responseCode = "409", description = "The file exists, the name is taken, or a job holds the node")
    ResponseEntity<NodeView> snapshotNode(
            @PathVariable String nodeName,
            @Valid @RequestBody SnapshotRequest request,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
                    @RequestHeader(name = IdempotencyKeys.HEADER, required = false)
                    @Nullable
                    String idempotencyKey) {
        return idempotency.run(idempotencyKey, List.of("POST snapshot", nodeName, request), () -> {
            NodeView overlay = nodes.snapshot(nodeName, request);
            return tags.created(location(overlay.nodeName()), overlay);
        });
    }

    private static URI location(String nodeName) {
        return UriComponentsBuilder.fromPath("/nodes/{name}")
                .buildAndExpand(nodeName)
                .encode()
                .toUri();
    }
}
