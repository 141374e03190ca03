package dev.blockpull.api;

import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Strong entity tags (RFC 9110 §8.8.3) and the {@code If-Match} rule shared by the resources. A
 * job's tag is its version counter; nodes and exports keep none, so theirs is a digest of their
 * state. Spring MVC answers a matching {@code If-None-Match} on a GET that returns a tagged
 * {@code ResponseEntity} with 304 by itself.
 */
@Component
public class EntityTags {

    /** 96 bits of SHA-256: collisions among the states of one resource are out of reach. */
    private static final int DIGEST_BYTES = 12;

    private final JsonMapper json;

    EntityTags(JsonMapper json) {
        this.json = json;
    }

    /** The tag of a state: equal JSON forms, equal tags; any other difference, another tag. */
    public String of(Object state) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(json.writeValueAsBytes(state));
            return quote(HexFormat.of().formatHex(digest, 0, DIGEST_BYTES));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    public static String quote(String opaque) {
        return "\"" + opaque + "\"";
    }

    /**
     * RFC 9110 {@code If-Match} with strong comparison: absent passes, {@code *} matches any
     * existing resource, else one of the listed tags must be {@code current}; otherwise 412.
     *
     * @param resource how the detail names it, e.g. {@code Job 's1'}
     */
    public static void checkIfMatch(@Nullable String ifMatch, String current, String resource) {
        if (ifMatch == null || ifMatch.isBlank()) {
            return;
        }
        for (String tag : ifMatch.split(",")) {
            String t = tag.trim();
            if (t.equals("*") || t.equals(current)) {
                return;
            }
        }
        throw new ApiException(ProblemType.PRECONDITION_FAILED, resource + " has changed: its ETag is " + current
                + ", not " + ifMatch.trim() + ". GET it again and retry with the new ETag");
    }
}
