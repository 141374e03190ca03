package dev.blockpull.api.node;

import dev.blockpull.api.IdempotencyKeys;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.validation.Valid;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.UriComponentsBuilder;

/** The rules of a blkdebug filter node, changed while it is in use (fault injection must be on). */
@RestController
@RequestMapping("/nodes/{nodeName}/inject-errors")
@Tag(name = "nodes")
class InjectedErrorController {

    private final NodeCatalog nodes;
    private final IdempotencyKeys idempotency;

    InjectedErrorController(NodeCatalog nodes, IdempotencyKeys idempotency) {
        this.nodes = nodes;
        this.idempotency = idempotency;
    }

    @GetMapping
    @Operation(operationId = "listInjectedErrors", summary = "The rules in force on a blkdebug node, oldest first")
    @ApiResponse(responseCode = "200", description = "The rules")
    @ApiResponse(responseCode = "400", description = "Fault injection is off, or the node is not a blkdebug filter")
    @ApiResponse(responseCode = "404", description = "No such node")
    List<InjectedErrorView> listInjectedErrors(@PathVariable String nodeName) {
        return nodes.injectedErrors(nodeName);
    }

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(operationId = "injectError", summary = "Add a rule to a blkdebug node; it applies to the next request")
    @ApiResponse(
            responseCode = "201",
            description = "The rule with its id",
            headers = @Header(name = "Location", description = "/nodes/{nodeName}/inject-errors/{id}"))
    @ApiResponse(responseCode = "400", description = "Bad rule, fault injection is off, or not a blkdebug node")
    @ApiResponse(responseCode = "404", description = "No such node")
    ResponseEntity<InjectedErrorView> injectError(
            @PathVariable String nodeName,
            @Valid @RequestBody InjectErrorRequest request,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
                    @RequestHeader(name = IdempotencyKeys.HEADER, required = false)
                    @Nullable
                    String idempotencyKey) {
        return idempotency.run(idempotencyKey, List.of("POST inject-errors", nodeName, request), () -> {
            InjectedErrorView rule = nodes.injectError(nodeName, request);
            return ResponseEntity.created(UriComponentsBuilder.fromPath("/nodes/{name}/inject-errors/{id}")
                            .buildAndExpand(nodeName, rule.id())
                            .encode()
                            .toUri())
                    .body(rule);
        });
    }

    @DeleteMapping("/{id}")
    @Operation(operationId = "removeInjectedError", summary = "Remove a rule; requests from now on pass it")
    @ApiResponse(responseCode = "204", description = "Removed")
    @ApiResponse(responseCode = "400", description = "Fault injection is off, or not a blkdebug node")
    @ApiResponse(responseCode = "404", description = "No such node or rule")
    ResponseEntity<Void> removeInjectedError(@PathVariable String nodeName, @PathVariable long id) {
        nodes.removeInjectedError(nodeName, id);
        return ResponseEntity.noContent().build();
    }
}
