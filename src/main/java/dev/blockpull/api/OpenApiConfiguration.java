package dev.blockpull.api;

import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.info.Info;
import io.swagger.v3.oas.annotations.info.License;
import org.springdoc.core.properties.SpringDocConfigProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Title and description of the OpenAPI document at {@code /v3/api-docs}, and what operations share. */
@Configuration(proxyBeanMethods = false)
@OpenAPIDefinition(
        info =
                @Info(
                        title = "Blockpull",
                        version = "v1",
                        description =
                                "QEMU's block-stream as a service: images, block graph nodes, stream jobs, NBD exports. "
                                        + "Errors are RFC 9457 problem details (application/problem+json) with a QMP errorClass.",
                        license = @License(name = "See the project repository")))
class OpenApiConfiguration {

    /** Every operation's problem responses: see {@link ProblemResponses}. */
    @Bean
    ProblemResponses problemResponses(SpringDocConfigProperties springdoc) {
        return new ProblemResponses(springdoc.getSpecVersion());
    }
}
