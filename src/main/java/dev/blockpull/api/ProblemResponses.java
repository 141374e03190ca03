package dev.blockpull.api;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.SpecVersion;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import java.lang.annotation.Annotation;
import java.util.TreeMap;
import org.springdoc.core.customizers.GlobalOperationComponentsCustomizer;
import org.springdoc.core.utils.SpringDocAnnotationsUtils;
import org.springframework.web.method.HandlerMethod;

/**
 * The problem responses of every operation in the OpenAPI document, so that a controller names
 * only the status and what it means ({@code @ApiResponse(responseCode = "404", description =
 * "No such job")}): every 4xx and 5xx response gets the {@code application/problem+json} body of
 * {@link ProblemSchema}, as {@link ApiExceptionHandler} answers them all; and an operation that
 * takes an {@code Idempotency-Key} gets the two answers of {@link IdempotencyKeys}: 422 for the key
 * reused with another request, 409 for the key's first request still running. Responses are
 * listed in status order, however the annotations that declare them are composed.
 */
final class ProblemResponses implements GlobalOperationComponentsCustomizer {

    private static final String IN_FLIGHT = "a request with the same Idempotency-Key still being answered";

    private final SpecVersion specVersion;

    ProblemResponses(SpecVersion specVersion) {
        this.specVersion = specVersion;
    }

    @Override
    public Operation customize(Operation operation, Components components, HandlerMethod handler) {
        ApiResponses responses = operation.getResponses();
        if (takesIdempotencyKey(operation)) {
            addIdempotencyKeyAnswers(responses);
        }
        // Registers the Problem schema in the components and answers a reference to it.
        Schema<?> problem = SpringDocAnnotationsUtils.extractSchema(
                components, ProblemSchema.class, null, new Annotation[0], specVersion);
        responses.forEach((status, response) -> {
            if (isError(status) && response.get$ref() == null) {
                response.setContent(new Content()
                        .addMediaType(
                                org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON_VALUE,
                                new MediaType().schema(problem)));
            }
        });
        return operation.responses(inStatusOrder(responses));
    }

    /** Never called: springdoc calls the form with the components for this kind of customizer. */
    @Override
    public Operation customize(Operation operation, HandlerMethod handler) {
        return operation;
    }

    private static boolean takesIdempotencyKey(Operation operation) {
        return operation.getParameters() != null
                && operation.getParameters().stream()
                        .anyMatch(p -> "header".equals(p.getIn()) && IdempotencyKeys.HEADER.equals(p.getName()));
    }

    private static void addIdempotencyKeyAnswers(ApiResponses responses) {
        ApiResponse conflict = responses.get("409");
        if (conflict == null) {
            responses.addApiResponse("409", new ApiResponse().description("Conflict: " + IN_FLIGHT));
        } else {
            conflict.setDescription(conflict.getDescription() + "; or " + IN_FLIGHT);
        }
        responses.addApiResponse(
                "422", new ApiResponse().description("The Idempotency-Key was first used with another request"));
    }

    /** Composed annotations are found after the method's own, so their order says nothing. */
    private static ApiResponses inStatusOrder(ApiResponses responses) {
        ApiResponses sorted = new ApiResponses().extensions(responses.getExtensions());
        new TreeMap<>(responses).forEach(sorted::addApiResponse);
        return sorted;
    }

    /** 4xx and 5xx; {@code default} and the 1xx-3xx codes keep what the handler declares. */
    private static boolean isError(String status) {
        return status.length() == 3 && (status.charAt(0) == '4' || status.charAt(0) == '5');
    }
}
