package dev.blockpull.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** A JSON object for a request, built from the options given: an option left out is no member. */
final class RequestBody {

    private RequestBody() {}

    /** Members from name/value pairs in order; null values are left out. */
    static Map<String, Object> of(@Nullable Object... namesAndValues) {
        Map<String, Object> body = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            Object value = namesAndValues[i + 1];
            if (value != null) {
                body.put(String.valueOf(namesAndValues[i]), value);
            }
        }
        return body;
    }
}
