package dev.blockpull.job;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.NoSpaceIOException;

/**
 * The {@code error} text of a failed job. QEMU jobs mostly return an errno and the job core sets
 * the text to strerror(errno) ("Input/output error"), so storage errors are reported by kind, not
 * by the exception's (more detailed, path-bearing) message; other errors keep their message.
 */
public final class ErrorTexts {

    /** strerror(ECANCELED), QEMU's error of a cancelled job. */
    public static final String CANCELED = "Operation canceled";

    public static final String EIO = "Input/output error";
    public static final String ENOSPC = "No space left on device";

    private ErrorTexts() {}

    public static String of(Throwable error) {
        if (error instanceof BlockException) {
            BlockErrorKind kind = ((BlockException) error).kind();
            if (kind == BlockErrorKind.IO_ERROR) {
                return EIO;
            }
            if (kind == BlockErrorKind.NO_SPACE) {
                return ENOSPC;
            }
        }
        if (isNoSpace(error)) {
            return ENOSPC;
        }
        String message = error.getMessage();
        return message == null || message.isBlank() ? error.getClass().getSimpleName() : message;
    }

    /** Whether the error is ENOSPC anywhere in its cause chain (the on-error policies care). */
    public static boolean isNoSpace(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof BlockException && ((BlockException) t).kind() == BlockErrorKind.NO_SPACE) {
                return true;
            }
            if (t instanceof NoSpaceIOException) {
                return true;
            }
            String m = t.getMessage();
            if (m != null && m.contains(ENOSPC)) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }
}
