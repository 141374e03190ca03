package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/**
 * One rule of a {@link FaultInjectionFilter}: requests of kind {@code event} that overlap
 * {@code [offset, offset + length)} of the filter's guest view fail with {@code errno}; a flush
 * has no range and fails whatever the range. With {@code once} the rule removes itself when it
 * first fires, as blkdebug's {@code once=on}.
 */
public record InjectedError(FaultEvent event, Errno errno, long offset, long length, boolean once) {

    /** A length that reaches the end of any node. */
    public static final long TO_THE_END = Long.MAX_VALUE;

    public InjectedError {
        if (offset < 0 || length < 1) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "An injected error needs offset >= 0 and length >= 1, got offset " + offset + ", length " + length);
        }
    }

    boolean matches(FaultEvent kind, long requestOffset, long requestLength) {
        if (kind != event) {
            return false;
        }
        if (kind == FaultEvent.FLUSH) {
            return true;
        }
        long end = length > TO_THE_END - offset ? TO_THE_END : offset + length;
        return requestLength > 0 && requestOffset < end && offset < requestOffset + requestLength;
    }
}
