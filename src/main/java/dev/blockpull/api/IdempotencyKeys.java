package dev.blockpull.api;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;

/**
 * The optional {@code Idempotency-Key} header (draft-ietf-httpapi-idempotency-key-header) of every
 * POST that creates something or drives a job: the same key with the same request within
 * {@link #RETENTION} replays the first successful response; the same key with a different request
 * (another body, another path) is 422; a key whose first request is still being answered is 409.
 * Failed requests are not remembered, so a client may retry them under the same key. Keys are
 * shared by all endpoints. Bounded: the oldest keys go first beyond {@link #MAX_KEYS}.
 */
@Component
public class IdempotencyKeys {

    public static final String HEADER = "Idempotency-Key";
    /** The header parameter's description in the OpenAPI document. */
    public static final String DESCRIPTION = "Optional: the same key with the same request within 24 h replays the "
            + "first successful answer (with Idempotent-Replayed: true) instead of doing it again";

    static final String REPLAYED_HEADER = "Idempotent-Replayed";
    static final Duration RETENTION = Duration.ofHours(24);
    static final int MAX_KEYS = 10_000;
    static final int MAX_KEY_LENGTH = 255;

    private final Clock clock;
    /** Insertion order = first use, so the head is always the oldest. Guarded by this. */
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

    IdempotencyKeys() {
        this(Clock.systemUTC());
    }

    IdempotencyKeys(Clock clock) {
        this.clock = clock;
    }

    /**
     * Runs {@code action} once per key and request; without a key simply runs it.
     *
     * @param request what identifies the request: method, path and the parsed body (compared with
     *                {@code equals}, so JSON member order and spacing do not matter)
     */
    public <T> ResponseEntity<T> run(@Nullable String key, Object request, Supplier<ResponseEntity<T>> action) {
        if (key == null) {
            return action.get();
        }
        String k = normalize(key);
        Entry entry;
        synchronized (this) {
            expire();
            entry = entries.get(k);
            if (entry == null) {
                entries.put(k, new Entry(request, clock.instant()));
                while (entries.size() > MAX_KEYS) {
                    Iterator<Entry> oldest = entries.values().iterator();
                    oldest.next();
                    oldest.remove();
                }
                entry = null;
            } else if (!Objects.equals(entry.request, request)) {
                throw new ApiException(
                        ProblemType.UNPROCESSABLE,
                        "Idempotency-Key '" + k + "' was first used with a "
                                + "different request; use a new key for a new request");
            } else if (entry.response == null) {
                throw new ApiException(
                        ProblemType.CONFLICT,
                        "A request with Idempotency-Key '" + k + "' is still "
                                + "being processed; retry once it has been answered");
            }
        }
        if (entry != null) {
            @SuppressWarnings("unchecked")
            ResponseEntity<T> first = (ResponseEntity<T>) entry.response;
            HttpHeaders headers = new HttpHeaders();
            headers.addAll(first.getHeaders());
            headers.set(REPLAYED_HEADER, "true");
            return ResponseEntity.status(first.getStatusCode()).headers(headers).body(first.getBody());
        }
        try {
            ResponseEntity<T> response = action.get();
            synchronized (this) {
                Entry mine = entries.get(k);
                if (mine != null) {
                    mine.response = response;
                }
            }
            return response;
        } catch (RuntimeException | Error e) {
            synchronized (this) {
                entries.remove(k);
            }
            throw e;
        }
    }

    private static String normalize(String key) {
        String k = key.trim();
        if (k.length() >= 2 && k.startsWith("\"") && k.endsWith("\"")) {
            k = k.substring(1, k.length() - 1);
        }
        if (k.isEmpty() || k.length() > MAX_KEY_LENGTH) {
            throw new ApiException(
                    ProblemType.INVALID_ARGUMENT, "Idempotency-Key must have 1 to " + MAX_KEY_LENGTH + " characters");
        }
        return k;
    }

    private void expire() {
        Instant cutoff = clock.instant().minus(RETENTION);
        Iterator<Entry> it = entries.values().iterator();
        while (it.hasNext()) {
            Entry e = it.next();
            if (e.firstUse.isAfter(cutoff)) {
                break;
            }
            if (e.response != null) {
                it.remove();
            }
        }
    }

    synchronized int size() {
        return entries.size();
    }

    private static final class Entry {
        final Object request;
        final Instant firstUse;

        @Nullable
        ResponseEntity<?> response;

        Entry(Object request, Instant firstUse) {
            this.request = request;
            this.firstUse = firstUse;
        }
    }
}
