package dev.blockpull.api.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.ops.BlockpullProperties;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.json.JsonMapper;

/** When the filter exists at all, and what a bad token setting does at start-up. */
class TokenConfigurationTests {

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(BlockpullProperties.class)
    static class Base {
        @Bean
        JsonMapper jsonMapper() {
            return JsonMapper.builder().build();
        }
    }

    private final WebApplicationContextRunner runner =
            new WebApplicationContextRunner().withUserConfiguration(Base.class, SecurityConfiguration.class);

    @Test
    void withoutATokenNoFilterIsRegisteredAndTheApiIsOpen() {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBeansOfType(FilterRegistrationBean.class)).isEmpty();
        });
    }

    @Test
    void withATokenTheFilterRunsBeforeTheRequestSizeLimit() {
        runner.withPropertyValues("blockpull.security.token=a-long-enough-token-123")
                .run(context -> {
                    FilterRegistrationBean<?> registration = context.getBean(FilterRegistrationBean.class);
                    assertThat(registration.getFilter()).isInstanceOf(BearerTokenFilter.class);
                    // RequestSizeLimitFilter is @Order(HIGHEST_PRECEDENCE + 10).
                    assertThat(registration.getOrder()).isLessThan(Integer.MIN_VALUE + 10);
                });
    }

    @Test
    void anEmptyTokenStopsStartUpInsteadOfOpeningTheApi() {
        runner.withPropertyValues("blockpull.security.token=")
                .run(context -> assertThat(context)
                        .hasFailed()
                        .getFailure()
                        .rootCause()
                        .hasMessageContaining("blockpull.security.token is set but blank"));
        runner.withPropertyValues("blockpull.security.token=   ")
                .run(context -> assertThat(context).hasFailed());
    }

    @Test
    void theWordFalseIsATokenLikeAnyOther() {
        runner.withPropertyValues("blockpull.security.token=false")
                .run(context -> assertThat(context.getBeansOfType(FilterRegistrationBean.class))
                        .hasSize(1));
    }

    @Test
    void bearerCredentialsAreParsedCaseInsensitivelyAndTrimmed() {
        assertThat(BearerTokenFilter.bearerToken("Bearer abc")).isEqualTo("abc");
        assertThat(BearerTokenFilter.bearerToken("bEaReR  abc ")).isEqualTo("abc");
        assertThat(BearerTokenFilter.bearerToken("Bearer")).isNull();
        assertThat(BearerTokenFilter.bearerToken("Bearer   ")).isNull();
        assertThat(BearerTokenFilter.bearerToken("Basic abc")).isNull();
        assertThat(BearerTokenFilter.bearerToken("Bearerabc")).isNull();
        assertThat(BearerTokenFilter.bearerToken(null)).isNull();
    }
}
