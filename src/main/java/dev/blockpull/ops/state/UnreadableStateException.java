package dev.blockpull.ops.state;

/**
 * The state file cannot be read (corrupt, or written by a newer build): the service does not
 * start, rather than start empty and forget what was recorded. The file has been moved aside.
 */
public final class UnreadableStateException extends RuntimeException {

    UnreadableStateException(String message, Throwable cause) {
        super(message, cause);
    }
}
