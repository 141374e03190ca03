package dev.blockpull.cli;

/** No HTTP answer at all: the service is down, the URL is wrong, or the network failed. */
final class UnreachableException extends RuntimeException {

    UnreachableException(String message, Throwable cause) {
        super(message, cause);
    }
}
