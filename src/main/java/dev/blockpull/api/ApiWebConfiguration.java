package dev.blockpull.api;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/** Spring MVC settings of the API's own: the check of query parameters. */
@Configuration(proxyBeanMethods = false)
class ApiWebConfiguration implements WebMvcConfigurer {

    private final KnownQueryParameters knownQueryParameters;

    ApiWebConfiguration(KnownQueryParameters knownQueryParameters) {
        this.knownQueryParameters = knownQueryParameters;
    }

    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        registry.addInterceptor(knownQueryParameters);
    }
}
