package dev.blockpull.api.export;

import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Body of {@code POST /exports} (block-export-add with type nbd). */
@Schema(name = "CreateExportRequest")
record CreateExportRequest(
        @Schema(
                description = "Export id, also the NBD export name clients ask for (nbd://host:port/ID): a letter "
                        + "first, then letters, digits, '-', '_', '.'; at most 31 characters",
                example = "vm1",
                requiredMode = Schema.RequiredMode.REQUIRED)
        @NotBlank
        @Pattern(
                regexp = "[A-Za-z][A-Za-z0-9_.-]{0,30}",
                message = "must start with a letter, then letters, digits, '-', '_' or '.'; at most 31 characters")
        String id,

        @Schema(description = "Node to export", example = "top", requiredMode = Schema.RequiredMode.REQUIRED) @NotBlank
        String nodeName,

        @Schema(description = "Clients may write (default false: read-only, writes fail with EPERM)") @Nullable
        Boolean writable,

        @Schema(
                description = "Only NBD clients whose verified TLS certificate has one of these subjects may list and "
                        + "open the export (QEMU's tls-authz); RFC 4514 distinguished names, compared in canonical form. "
                        + "Needs blockpull.nbd.tls.ca. Default: any client",
                example = "[\"CN=hypervisor-1,O=Example\"]")
        @Nullable
        List<@NotBlank String> allowedClientSubjects) {}
