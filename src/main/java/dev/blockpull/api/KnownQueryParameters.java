package dev.blockpull.api;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.MethodParameter;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * Every endpoint of the API refuses query parameters it does not take, as {@code /jobs} always
 * did: a misspelt filter ({@code ?stauts=}) or a parameter of another endpoint must not be
 * silently ignored. The names taken are the handler's {@code @RequestParam}s; endpoints of
 * others (actuator, springdoc) are left alone.
 */
@Component
class KnownQueryParameters implements HandlerInterceptor {

    private static final String API_PACKAGE = "dev.blockpull.api";
    private final ParameterNameDiscoverer names = new DefaultParameterNameDiscoverer();
    /** Empty: the handler takes any parameter (a {@code @RequestParam Map}). */
    private final Map<Method, Optional<Set<String>>> known = new ConcurrentHashMap<>();

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        if (!(handler instanceof HandlerMethod method)
                || !method.getBeanType().getPackageName().startsWith(API_PACKAGE)) {
            return true;
        }
        Optional<Set<String>> taken = known.computeIfAbsent(method.getMethod(), m -> requestParams(method));
        if (taken.isEmpty()) {
            return true;
        }
        for (String name : request.getParameterMap().keySet()) {
            if (!taken.get().contains(name)) {
                throw new ApiException(
                        ProblemType.INVALID_ARGUMENT,
                        "Unknown query parameter '" + name + "'; "
                                + (taken.get().isEmpty()
                                        ? "this endpoint takes none"
                                        : "known: " + taken.get().stream().collect(Collectors.joining(", "))));
            }
        }
        return true;
    }

    private Optional<Set<String>> requestParams(HandlerMethod method) {
        Set<String> taken = new TreeSet<>();
        for (MethodParameter p : method.getMethodParameters()) {
            RequestParam param = p.getParameterAnnotation(RequestParam.class);
            if (param == null) {
                continue;
            }
            if (Map.class.isAssignableFrom(p.getParameterType())) {
                return Optional.empty();
            }
            String name = !param.name().isEmpty() ? param.name() : param.value();
            if (name.isEmpty()) {
                p.initParameterNameDiscovery(names);
                name = p.getParameterName();
            }
            if (name != null) {
                taken.add(name);
            }
        }
        return Optional.of(taken);
    }
}
