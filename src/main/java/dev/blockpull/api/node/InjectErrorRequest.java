package dev.blockpull.api.node;

import dev.blockpull.graph.Errno;
import dev.blockpull.graph.FaultEvent;
import dev.blockpull.graph.InjectedError;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import java.util.Arrays;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** One rule of a blkdebug filter: in {@code injectErrors} of its definition, or added later. */
@Schema(name = "InjectErrorRequest")
record InjectErrorRequest(
        @Schema(
                description = "The requests it fails",
                allowableValues = {"read", "write", "flush"},
                requiredMode = Schema.RequiredMode.REQUIRED)
        @NotBlank
        String event,

        @Schema(
                description = "The error",
                allowableValues = {"EIO", "ENOSPC", "EPERM", "EROFS"},
                requiredMode = Schema.RequiredMode.REQUIRED)
        @NotBlank
        String errno,

        @Schema(description = "First byte of the filter's guest view it covers; default 0") @PositiveOrZero @Nullable
        Long offset,

        @Schema(description = "Bytes it covers; default: to the end. Requests overlapping the range fail")
        @Positive
        @Nullable
        Long length,

        @Schema(description = "Fire for one request, then remove itself; default false") @Nullable
        Boolean once) {

    InjectedError toRule() {
        return new InjectedError(
                parse(FaultEvent.class, "event", event),
                parse(Errno.class, "errno", errno),
                offset == null ? 0 : offset,
                length == null ? InjectedError.TO_THE_END : length,
                Boolean.TRUE.equals(once));
    }

    /** Events are written in lower case as in QEMU's iotype, errnos in upper case as in errno.h. */
    private static <E extends Enum<E>> E parse(Class<E> type, String member, String value) {
        for (E e : type.getEnumConstants()) {
            if (spelling(e).equals(value)) {
                return e;
            }
        }
        throw new BlockException(
                BlockErrorKind.INVALID_ARGUMENT,
                "Unknown " + member + " '" + value + "'; one of "
                        + Arrays.stream(type.getEnumConstants())
                                .map(InjectErrorRequest::spelling)
                                .toList());
    }

    static String spelling(Enum<?> e) {
        return e instanceof FaultEvent ? e.name().toLowerCase(Locale.ROOT) : e.name();
    }
}
