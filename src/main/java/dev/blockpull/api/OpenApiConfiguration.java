package dev.blockpull.api;

import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.info.License;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import org.springdoc.core.customizers.OperationCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Title and description of the OpenAPI document at {@code /v3/api-docs}, and what operations share. */
@Configuration(proxyBeanMethods = false)
@OpenAPIDefinition(info = @Info(title = "Blockpull",
        version = "v1",
        description = "QEMU's block-stream as a service: images, block graph nodes, stream jobs, NBD exports. "
                + "Errors are RFC 9457 problem details (application/problem+json) with a QMP errorClass.",
        license = @License(name = "See the project repository")))
class OpenApiConfiguration {

    private static final String IN_FLIGHT = "a request with the same Idempotency-Key still being answered";

    /**
     * Every operation that takes an {@code Idempotency-Key} documents its two answers once, here:
     * 422 for the key reused with another request, 409 for the key's first request still running.
     */
    @Bean
    OperationCustomizer idempotencyKeyResponses() {
        return (operation, handler) -> {
            boolean takesKey = operation.getParameters() != null && operation.getParameters().stream()
                    .anyMatch(p -> "header".equals(p.getIn()) && IdempotencyKeys.HEADER.equals(p.getName()));
            if (!takesKey) {
                return operation;
            }
            ApiResponses responses = operation.getResponses();
            ApiResponse conflict = responses.get("409");
            if (conflict == null) {
                responses.addApiResponse("409", problem("Conflict: " + IN_FLIGHT));
            } else {
                conflict.setDescription(conflict.getDescription() + "; or " + IN_FLIGHT);
            }
            responses.addApiResponse("422", problem("The Idempotency-Key was first used with another request"));
            return operation;
        };
    }

    private static ApiResponse problem(String description) {
        MediaType problem = new MediaType().schema(new Schema<>().$ref("#/components/schemas/Problem"));
        return new ApiResponse().description(description)
                .content(new Content().addMediaType(org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON_VALUE,
                        problem));
    }
}
