package dev.blockpull.api;

import java.net.URI;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Strong entity tags (RFC 9110 §8.8.3) and the {@code If-Match} rule shared by the resources. A
 * job's tag is its version counter; nodes and exports keep none, so theirs is a digest of their
 * view ({@link LiveView}). Spring MVC answers a matching {@code If-None-Match} on a GET that
 * returns a tagged {@code ResponseEntity} with 304 by itself.
 */
@Component
public class EntityTags {

    /** 96 bits of SHA-256: collisions among the states of one resource are out of reach. */
    private static final int DIGEST_BYTES = 12;

    private final JsonMapper json;

    EntityTags(JsonMapper json) {
        this.json = json;
    }

    /** The tag of a view: a digest of all of it but its live counters. */
    private String of(LiveView<?> view) {
        return digest(view.withoutLiveCounters());
    }

    /** Equal JSON forms, equal tags; any other difference, another tag. */
    private String digest(Object state) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(json.writeValueAsBytes(state));
            return quote(HexFormat.of().formatHex(digest, 0, DIGEST_BYTES));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** 200 with the view and its tag. */
    public <V extends LiveView<V>> ResponseEntity<V> ok(V view) {
        return ResponseEntity.ok().eTag(of(view)).body(view);
    }

    /** 201 with the new resource's location, its view and its tag. */
    public <V extends LiveView<V>> ResponseEntity<V> created(URI location, V view) {
        return ResponseEntity.created(location).eTag(of(view)).body(view);
    }

    /**
     * {@link #checkIfMatch(String, String, String)} against the view's tag; the view is looked up
     * only when there is an {@code If-Match} to check.
     */
    public void checkIfMatch(@Nullable String ifMatch, Supplier<? extends LiveView<?>> current, String resource) {
        if (ifMatch != null) {
            checkIfMatch(ifMatch, of(current.get()), resource);
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
        throw new ApiException(
                ProblemType.PRECONDITION_FAILED,
                resource + " has changed: its ETag is " + current + ", not " + ifMatch.trim()
                        + ". GET it again and retry with the new ETag");
    }

    /**
     * A view whose tag leaves out the counters that change with every request (requests in
     * flight, clients connected), as a job's tag leaves out its throughput.
     */
    public interface LiveView<V> {

        /** The view with its live counters zeroed: what the tag covers. */
        V withoutLiveCounters();
    }
}
