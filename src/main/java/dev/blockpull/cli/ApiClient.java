package dev.blockpull.cli;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;

/**
 * The service's HTTP API as the CLI uses it: JSON in and out, the bearer token on every request,
 * problems as {@link ProblemException}, no answer at all as {@link UnreachableException}.
 */
final class ApiClient {

    static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern NEXT = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final URI base;
    private final @Nullable String token;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();

    ApiClient(URI base, @Nullable String token) {
        this.base = base;
        this.token = token == null || token.isBlank() ? null : token;
    }

    static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    JsonNode get(String path) {
        return send(request(path).GET());
    }

    JsonNode post(String path, @Nullable Object body) {
        return send(withBody(request(path), "POST", body));
    }

    JsonNode patch(String path, Object body) {
        return send(withBody(request(path), "PATCH", body));
    }

    JsonNode delete(String path) {
        return send(request(path).DELETE());
    }

    /** Every item of a paged list, following its {@code Link: <...>; rel="next"} headers. */
    ArrayNode getAll(String path) {
        ArrayNode all = JSON.createArrayNode();
        String next = path;
        while (next != null) {
            HttpResponse<String> response = exchange(request(next).GET(), HttpResponse.BodyHandlers.ofString());
            all.addAll((ArrayNode) parse(response));
            next = nextPage(response).orElse(null);
        }
        return all;
    }

    /**
     * {@code GET /jobs/events} with the query; returns once the answer's headers arrived, which is
     * when the server's subscription exists: nothing published after this is missed.
     */
    EventStream events(String query) {
        HttpRequest.Builder request = request("/jobs/events" + query).header("Accept", "text/event-stream");
        HttpResponse<Stream<String>> response = exchange(request.GET(), HttpResponse.BodyHandlers.ofLines());
        if (response.statusCode() >= 400) {
            String body = String.join("\n", (Iterable<String>) response.body()::iterator);
            throw problem(response.statusCode(), body);
        }
        return new EventStream(response.body());
    }

    private HttpRequest.Builder request(String path) {
        // Relative to the base, so a base URL with a path prefix (behind a proxy) keeps it.
        URI uri = base.resolve(path.startsWith("/") ? path.substring(1) : path);
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri).header("Accept", "application/json");
        if (token != null) {
            builder.header("Authorization", "Bearer " + token);
        }
        return builder;
    }

    private static HttpRequest.Builder withBody(HttpRequest.Builder request, String method, @Nullable Object body) {
        if (body == null) {
            return request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return request.header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
    }

    private JsonNode send(HttpRequest.Builder request) {
        return parse(exchange(request, HttpResponse.BodyHandlers.ofString()));
    }

    private <T> HttpResponse<T> exchange(HttpRequest.Builder request, HttpResponse.BodyHandler<T> body) {
        HttpRequest built = request.build();
        try {
            return http.send(built, body);
        } catch (IOException e) {
            throw new UnreachableException(
                    "cannot reach " + base + " (" + describe(e) + "); set BLOCKPULL_URL or "
                            + "--url to the service's address",
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnreachableException("interrupted while talking to " + base, e);
        }
    }

    private static String describe(IOException e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + message);
    }

    private static JsonNode parse(HttpResponse<String> response) {
        if (response.statusCode() >= 400) {
            throw problem(response.statusCode(), response.body());
        }
        if (response.body().isBlank()) {
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(response.body());
        } catch (JacksonException e) {
            throw new ProblemException(response.statusCode(), "the service answered something that is not JSON");
        }
    }

    private static ProblemException problem(int status, String body) {
        try {
            return ProblemException.of(status, JSON.readTree(body));
        } catch (JacksonException e) {
            return new ProblemException(status, status + (body.isBlank() ? "" : ": " + body.strip()));
        }
    }

    private static Optional<String> nextPage(HttpResponse<?> response) {
        for (String link : response.headers().allValues("Link")) {
            Matcher m = NEXT.matcher(link);
            if (m.find()) {
                return Optional.of(m.group(1));
            }
        }
        return Optional.empty();
    }
}
