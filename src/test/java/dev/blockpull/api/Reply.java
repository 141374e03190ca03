package dev.blockpull.api;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.ExchangeResult;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A response taken apart for AssertJ: status, headers, raw body and the body as JSON. */
public record Reply(
        int status,
        HttpHeaders headers,
        String raw,
        @Nullable JsonNode json) {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    public static Reply of(RestTestClient.ResponseSpec spec) {
        ExchangeResult result = spec.returnResult();
        String raw = new String(result.getResponseBodyContent(), StandardCharsets.UTF_8);
        JsonNode json = null;
        if (!raw.isBlank()) {
            try {
                json = JSON.readTree(raw);
            } catch (RuntimeException notJson) {
                json = null;
            }
        }
        return new Reply(result.getStatus().value(), result.getResponseHeaders(), raw, json);
    }

    public String contentType() {
        MediaType type = headers.getContentType();
        return type == null ? "" : type.toString();
    }

    public JsonNode body() {
        if (json == null) {
            throw new AssertionError("response body is not JSON: " + this);
        }
        return json;
    }

    /** A text member of the body, or null. */
    public @Nullable String text(String field) {
        JsonNode node = body().get(field);
        return node == null || node.isNull() ? null : node.asString();
    }

    @Override
    public String toString() {
        return status + " " + contentType() + " " + (raw.length() > 600 ? raw.substring(0, 600) + "..." : raw);
    }
}
