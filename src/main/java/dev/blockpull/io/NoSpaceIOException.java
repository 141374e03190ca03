package dev.blockpull.io;

import java.io.IOException;

/** ENOSPC, as the fault injector raises it; real ENOSPC is recognised by its message. */
public class NoSpaceIOException extends IOException {

    public NoSpaceIOException(String message) {
        super(message);
    }
}
