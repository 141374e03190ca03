package dev.blockpull.api.job;

import dev.blockpull.api.ApiException;
import dev.blockpull.api.ProblemType;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/** The merge patch a job accepts: only {@code speed}. */
@Schema(name = "JobPatch", description = "JSON merge patch of a job; only speed may change")
record JobPatch(
        @Schema(description = "Bytes per second, 0 = unlimited", example = "1048576", minimum = "0")
        long speed) {

    /** The new speed, or null for an empty patch; anything but {@code speed} is 400. */
    static @Nullable Long speedOf(@Nullable JsonNode patch) {
        if (patch == null || !patch.isObject()) {
            throw new ApiException(
                    ProblemType.MALFORMED_BODY, "The request body must be a JSON object such as {\"speed\": 1048576}");
        }
        Long speed = null;
        for (Map.Entry<String, JsonNode> member : patch.properties()) {
            String name = member.getKey();
            JsonNode value = member.getValue();
            if (!name.equals("speed")) {
                throw new ApiException(
                        ProblemType.UNKNOWN_FIELD,
                        "Unknown field '" + name + "' in the patch: only 'speed' may change");
            }
            if (value.isNull()) {
                throw new ApiException(ProblemType.INVALID_ARGUMENT, "'speed' cannot be removed; send 0 for no limit");
            }
            if (!value.isIntegralNumber() || !value.canConvertToLong()) {
                throw new ApiException(
                        ProblemType.MALFORMED_BODY, "Invalid value for field 'speed': expected an integer number");
            }
            speed = value.longValue();
        }
        return speed;
    }
}
