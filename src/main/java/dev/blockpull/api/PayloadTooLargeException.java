package dev.blockpull.api;

import java.io.IOException;

/**
 * A request body without a Content-Length grew past the limit while it was read. An
 * {@link IOException} so that it travels through the message converters like any read error;
 * the exception handler finds it in the cause chain and answers 413.
 */
final class PayloadTooLargeException extends IOException {

    PayloadTooLargeException(long limit) {
        super("Request body is larger than " + limit + " bytes");
    }
}
