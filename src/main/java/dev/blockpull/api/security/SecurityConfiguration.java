package dev.blockpull.api.security;

import dev.blockpull.ops.BlockpullProperties;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.type.AnnotatedTypeMetadata;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns bearer-token authentication on when {@code blockpull.security.token} is set (for example
 * from the environment variable {@code BLOCKPULL_SECURITY_TOKEN}, which the Helm chart fills from a
 * Secret). Without a token the filter is not registered and the API is open.
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {

    private static final Logger log = LoggerFactory.getLogger(SecurityConfiguration.class);
    private static final String SCHEME = "bearerAuth";
    /** A token shorter than this is accepted, with a warning: it may be guessed. */
    private static final int MIN_LENGTH = 16;

    @Bean
    @Conditional(TokenConfigured.class)
    FilterRegistrationBean<BearerTokenFilter> bearerTokenFilter(BlockpullProperties properties, JsonMapper json) {
        BlockpullProperties.Security security = properties.security();
        String token = security.token();
        if (token == null || token.isBlank()) {
            // An empty Secret must not silently open the API.
            throw new IllegalStateException("blockpull.security.token is set but blank; set a token or unset it");
        }
        if (token.strip().length() < MIN_LENGTH) {
            log.warn(
                    "blockpull.security.token is shorter than {} characters; use a long random token "
                            + "(e.g. `openssl rand -hex 32`)",
                    MIN_LENGTH);
        }
        log.info(
                "API calls need a bearer token; open: health probes, Swagger UI, /v3/api-docs{}",
                security.protectMetrics() ? "" : ", /actuator/prometheus");
        FilterRegistrationBean<BearerTokenFilter> registration =
                new FilterRegistrationBean<>(new BearerTokenFilter(token.strip(), security.protectMetrics(), json));
        // Before everything that reads the request (such as the 413 size limit), after Boot's
        // observation filter, so that refused calls still show in the HTTP metrics.
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 5);
        registration.addUrlPatterns("/*");
        return registration;
    }

    /** Gives Swagger UI its Authorize button and marks every operation as needing the token. */
    @Bean
    @Conditional(TokenConfigured.class)
    OpenApiCustomizer bearerTokenOpenApi() {
        return openApi -> {
            Components components = openApi.getComponents() != null ? openApi.getComponents() : new Components();
            components.addSecuritySchemes(
                    SCHEME,
                    new SecurityScheme()
                            .type(SecurityScheme.Type.HTTP)
                            .scheme("bearer")
                            .description("blockpull.security.token"));
            openApi.components(components);
            openApi.addSecurityItem(new SecurityRequirement().addList(SCHEME));
        };
    }

    /**
     * True when the property exists at all, even empty: an empty token must fail start-up, not
     * leave the API open. (ConditionalOnProperty would treat the value "false" as absent.)
     */
    static final class TokenConfigured implements Condition {
        @Override
        public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
            return context.getEnvironment().getProperty("blockpull.security.token") != null;
        }
    }
}
