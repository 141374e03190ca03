package dev.blockpull.api.security;

import dev.blockpull.api.ProblemType;
import dev.blockpull.api.Problems;
import dev.blockpull.api.QmpErrorClass;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.web.filter.OncePerRequestFilter;
import tools.jackson.databind.json.JsonMapper;

/**
 * Lets a request through only with {@code Authorization: Bearer <token>} when a token is
 * configured. Both a missing and a wrong token answer 401 (RFC 6750 §3.1: {@code invalid_token} is
 * a 401; 403 would mean "known, but not allowed", and there is only one credential here) with an
 * RFC 9457 body and a {@code WWW-Authenticate: Bearer} challenge.
 *
 * <p>Open without a token: the health endpoints (Kubernetes probes carry no credentials), Swagger
 * UI and the OpenAPI document (they describe the API, they do not touch images; Swagger UI can
 * send the token through its Authorize button), the jobs page's static files under {@code /ui/}
 * (they hold no data; the page sends the token the user types in with each of its API calls), and
 * {@code /actuator/prometheus} unless
 * {@code blockpull.security.protect-metrics} is set.
 */
final class BearerTokenFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(BearerTokenFilter.class);

    static final String REALM = "blockpull";
    private static final String BEARER = "bearer ";

    /** Exact paths and path prefixes (a prefix ends with '/') that need no token. */
    private static final List<String> ALWAYS_OPEN = List.of(
            "/actuator/health",
            "/actuator/health/",
            "/swagger-ui.html",
            "/swagger-ui/",
            "/v3/api-docs",
            "/v3/api-docs/",
            "/v3/api-docs.yaml",
            "/ui",
            "/ui/");

    private static final String PROMETHEUS = "/actuator/prometheus";

    private final byte[] expectedHash;
    private final boolean protectMetrics;
    private final JsonMapper json;

    BearerTokenFilter(String token, boolean protectMetrics, JsonMapper json) {
        this.expectedHash = sha256(token);
        this.protectMetrics = protectMetrics;
        this.json = json;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (isOpen(request)) {
            chain.doFilter(request, response);
            return;
        }
        String presented = bearerToken(request.getHeader(HttpHeaders.AUTHORIZATION));
        if (presented == null) {
            log.debug("{} {} without a bearer token: 401", request.getMethod(), request.getRequestURI());
            reject(
                    request,
                    response,
                    "Bearer realm=\"" + REALM + "\"",
                    "This API needs 'Authorization: Bearer <token>' (blockpull.security.token is set)");
            return;
        }
        // Hashing first makes both sides 32 bytes, so the comparison time says nothing about the
        // token's length or its first wrong byte; isEqual itself does not stop at a mismatch.
        if (!MessageDigest.isEqual(expectedHash, sha256(presented))) {
            log.debug("{} {} with a wrong bearer token: 401", request.getMethod(), request.getRequestURI());
            reject(
                    request,
                    response,
                    "Bearer realm=\"" + REALM + "\", error=\"invalid_token\"",
                    "The bearer token is not valid for this service");
            return;
        }
        chain.doFilter(request, response);
    }

    /**
     * Open paths are decided on the path Tomcat decoded and normalised, and only when the raw URI
     * is the same path: a URI with encoded characters, dot segments, matrix parameters or double
     * slashes is never open, whatever it normalises to.
     */
    boolean isOpen(HttpServletRequest request) {
        String raw = request.getRequestURI().substring(request.getContextPath().length());
        String path = request.getServletPath() + (request.getPathInfo() != null ? request.getPathInfo() : "");
        if (!raw.equals(path) || raw.contains("%") || raw.contains(";") || raw.contains("//") || raw.contains("/.")) {
            return false;
        }
        if (!protectMetrics && path.equals(PROMETHEUS)) {
            return true;
        }
        for (String open : ALWAYS_OPEN) {
            if (open.endsWith("/") ? path.startsWith(open) : path.equals(open)) {
                return true;
            }
        }
        return false;
    }

    /** The credentials of a {@code Bearer} authorization (scheme names are case-insensitive), or null. */
    static @Nullable String bearerToken(@Nullable String authorization) {
        if (authorization == null
                || authorization.length() <= BEARER.length()
                || !authorization
                        .substring(0, BEARER.length())
                        .toLowerCase(Locale.ROOT)
                        .equals(BEARER)) {
            return null;
        }
        String token = authorization.substring(BEARER.length()).strip();
        return token.isEmpty() ? null : token;
    }

    private void reject(HttpServletRequest request, HttpServletResponse response, String challenge, String detail)
            throws IOException {
        ProblemDetail problem = Problems.create(ProblemType.UNAUTHORIZED, QmpErrorClass.GENERIC_ERROR, detail);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", problem.getType().toString());
        body.put("title", problem.getTitle());
        body.put("status", problem.getStatus());
        body.put("detail", problem.getDetail());
        body.put("instance", request.getRequestURI());
        body.put(Problems.ERROR_CLASS, QmpErrorClass.GENERIC_ERROR.qmpName());
        response.setStatus(HttpServletResponse.SC_UNAUTHORIZED);
        response.setHeader(HttpHeaders.WWW_AUTHENTICATE, challenge);
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        json.writeValue(response.getOutputStream(), body);
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
