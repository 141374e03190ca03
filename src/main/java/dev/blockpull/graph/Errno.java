package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.NoSpaceIOException;
import java.io.IOException;

/** The errors a {@link FaultInjectionFilter} can inject, with the text strerror gives them. */
public enum Errno {
    EIO("Input/output error"),
    ENOSPC("No space left on device"),
    EPERM("Operation not permitted"),
    EROFS("Read-only file system");

    private final String message;

    Errno(String message) {
        this.message = message;
    }

    /** The exception a failed storage request raises: ENOSPC as NO_SPACE (the job's {@code nospace}), the rest as EIO. */
    BlockIoException raise() {
        IOException cause = this == ENOSPC ? new NoSpaceIOException(message) : new IOException(message);
        return new BlockIoException(this == ENOSPC ? BlockErrorKind.NO_SPACE : BlockErrorKind.IO_ERROR, message, cause);
    }
}
