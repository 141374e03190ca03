package dev.blockpull.api.image;

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
import jakarta.validation.constraints.NotBlank;
import java.net.URI;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.UriComponentsBuilder;

@RestController
@RequestMapping("/images")
@Tag(name = "images", description = "Image files under the data root, like qemu-img create / info")
class ImageController {

    private final ImageCatalog images;
    private final IdempotencyKeys idempotency;

    ImageController(ImageCatalog images, IdempotencyKeys idempotency) {
        this.images = images;
        this.idempotency = idempotency;
    }

    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(
            operationId = "createImage",
            summary = "Create an image file (qemu-img create)",
            description = "Creates a qcow2 or raw image under the data root, with parent directories. "
                    + "Existing files are never overwritten.")
    @ApiResponse(
            responseCode = "201",
            description = "Created; the body is the new image's info",
            headers = @Header(name = "Location", description = "/images/info?filename=..."))
    @ApiResponse(
            responseCode = "400",
            description = "Bad arguments, a name outside the data root, an unknown field or malformed JSON")
    @ApiResponse(responseCode = "409", description = "The file exists (it is left untouched)")
    @ApiResponse(responseCode = "413", description = "Request body too large")
    @ApiResponse(responseCode = "415", description = "Content-Type is not application/json")
    @ApiResponse(responseCode = "507", description = "No space left on the data root's device")
    ResponseEntity<ImageInfoView> createImage(
            @Valid @RequestBody CreateImageRequest request,
            @Parameter(description = IdempotencyKeys.DESCRIPTION)
                    @RequestHeader(name = IdempotencyKeys.HEADER, required = false)
                    @Nullable
                    String idempotencyKey) {
        return idempotency.run(idempotencyKey, List.of("POST /images", request), () -> {
            ImageInfoView created = images.create(request);
            URI location = UriComponentsBuilder.fromPath("/images/info")
                    .queryParam("filename", created.filename())
                    .encode()
                    .build()
                    .toUri();
            return ResponseEntity.created(location).body(created);
        });
    }

    @GetMapping
    @Operation(
            operationId = "listImages",
            summary = "List the image files under the data root",
            description = "Every regular file under the data root (symbolic links are not followed), sorted by "
                    + "name, paged with a cursor: when more follow, a Link header with rel=\"next\" carries "
                    + "the next page's URL. Files that do not open as images are listed with an error.")
    @ApiResponse(
            responseCode = "200",
            description = "One page of images",
            headers = @Header(name = "Link", description = "<...pageToken=...>; rel=\"next\" when more follow"))
    @ApiResponse(responseCode = "400", description = "Bad pageSize or pageToken")
    ResponseEntity<List<ImageView>> listImages(
            @Parameter(description = "Items per page, 1..1000")
                    @RequestParam(defaultValue = "" + Paging.DEFAULT_PAGE_SIZE)
                    @Min(1)
                    @Max(Paging.MAX_PAGE_SIZE)
                    int pageSize,
            @Parameter(description = "Cursor from the previous page's Link header")
                    @RequestParam(required = false)
                    @Nullable
                    String pageToken) {
        Paging.Page<ImageView> page = images.list(pageSize, pageToken);
        return ResponseEntity.ok().headers(page.headers(pageSize)).body(page.items());
    }

    @GetMapping("/info")
    @Operation(
            operationId = "getImageInfo",
            summary = "Show an image and its backing chain (qemu-img info --backing-chain)")
    @ApiResponse(responseCode = "200", description = "The image and every layer below it, top first")
    @ApiResponse(responseCode = "400", description = "A name outside the data root, or a broken or invalid chain")
    @ApiResponse(responseCode = "404", description = "No such image")
    ImageInfoView getImageInfo(
            @Parameter(description = "File name relative to the data root", example = "vm1/top.qcow2")
                    @RequestParam
                    @NotBlank
                    String filename) {
        return images.info(filename);
    }
}
