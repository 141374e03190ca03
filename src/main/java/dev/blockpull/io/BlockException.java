package dev.blockpull.io;

/**
 * Root of every error the block layer raises. Each carries a {@link BlockErrorKind}
 * that the HTTP layer maps once to a status code and a QMP error class.
 */
public class BlockException extends RuntimeException {

    private final BlockErrorKind kind;

    public BlockException(BlockErrorKind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public BlockException(BlockErrorKind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public BlockErrorKind kind() {
        return kind;
    }
}
