package dev.blockpull.io;

/** What went wrong, in terms a caller can act on; the API maps each to an HTTP status. */
public enum BlockErrorKind {
    /** Bad or contradictory arguments from the caller. */
    INVALID_ARGUMENT,
    /** A named file, node or job does not exist. */
    NOT_FOUND,
    /** A state or ownership conflict: the target exists, is busy or is held. */
    CONFLICT,
    /** The image uses a feature this engine does not implement. */
    UNSUPPORTED,
    /** The image's metadata is malformed or inconsistent. */
    INVALID_IMAGE,
    /** A write was attempted on something read-only. */
    READ_ONLY,
    /** The underlying storage reported an I/O error (EIO). */
    IO_ERROR,
    /** The underlying storage is full (ENOSPC). */
    NO_SPACE
}
