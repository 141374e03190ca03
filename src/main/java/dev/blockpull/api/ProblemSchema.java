package dev.blockpull.api;

import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The shape of every error body, for the OpenAPI document only: responses are built from
 * {@link org.springframework.http.ProblemDetail} by {@link ApiExceptionHandler}.
 */
@Schema(name = "Problem", description = "RFC 9457 problem details with the QMP error class")
public record ProblemSchema(
        @Schema(
                description = "Stable URI of the problem kind",
                example = "https://blockpull.dev/problems/invalid-argument")
        String type,

        @Schema(description = "Fixed title of the problem kind", example = "Invalid argument")
        String title,

        @Schema(description = "HTTP status", example = "400")
        int status,

        @Schema(description = "What went wrong in this request, and what to do instead")
        String detail,

        @Schema(description = "The request path", example = "/images")
        String instance,

        @Schema(
                description = "QMP error class",
                example = "GenericError",
                allowableValues = {
                    "GenericError",
                    "DeviceNotFound",
                    "CommandNotFound",
                    "DeviceNotActive",
                    "KVMMissingCap"
                })
        String errorClass,

        @Schema(description = "Field errors of a failed validation") @Nullable
        List<FieldProblem> errors) {

    @Schema(name = "FieldProblem")
    public record FieldProblem(String field, String message) {}
}
