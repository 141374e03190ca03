package dev.blockpull.api;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

/**
 * Cursor paging shared by every list: the body is a bare JSON array, and a
 * {@code Link: <...>; rel="next"} header carries the cursor when more items follow. The cursor is
 * the sort key of the last item sent, so it stays valid while items come and go.
 */
public final class Paging {

    public static final int DEFAULT_PAGE_SIZE = 50;
    public static final int MAX_PAGE_SIZE = 1000;

    private Paging() {}

    /** One page of a list, and the token of the next page if there is one. */
    public record Page<T>(List<T> items, @Nullable String nextPageToken) {

        /** Headers for the response: a {@code Link rel="next"} when a next page exists. */
        public HttpHeaders headers(int pageSize) {
            HttpHeaders headers = new HttpHeaders();
            if (nextPageToken != null) {
                String next = ServletUriComponentsBuilder.fromCurrentRequest()
                        .replaceQueryParam("pageSize", pageSize)
                        .replaceQueryParam("pageToken", nextPageToken)
                        .build()
                        .toUriString();
                headers.add(HttpHeaders.LINK, "<" + next + ">; rel=\"next\"");
            }
            return headers;
        }
    }

    /**
     * The items after {@code pageToken} in {@code sorted}, which must be ordered by {@code key}
     * (strings compared naturally) without duplicate keys.
     */
    public static <T> Page<T> page(List<T> sorted, Function<T, String> key, int pageSize, @Nullable String pageToken) {
        if (pageSize < 1) {
            throw new IllegalArgumentException("pageSize must be positive");
        }
        String after = pageToken == null || pageToken.isEmpty() ? null : decode(pageToken);
        List<T> items = new ArrayList<>(Math.min(pageSize, sorted.size()));
        boolean more = false;
        for (T item : sorted) {
            if (after != null && key.apply(item).compareTo(after) <= 0) {
                continue;
            }
            if (items.size() == pageSize) {
                more = true;
                break;
            }
            items.add(item);
        }
        String next = more ? encode(key.apply(items.get(items.size() - 1))) : null;
        return new Page<>(items, next);
    }

    private static String encode(String key) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(key.getBytes(StandardCharsets.UTF_8));
    }

    private static String decode(String token) {
        try {
            return new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ApiException(
                    ProblemType.INVALID_ARGUMENT,
                    "Invalid pageToken '" + token + "': pass the token from a Link rel=\"next\" header unchanged");
        }
    }
}
