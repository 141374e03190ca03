package dev.blockpull.io;

import java.io.IOException;

/** The storage under an image failed: EIO, or ENOSPC as {@link BlockErrorKind#NO_SPACE}. */
public class BlockIoException extends BlockException {

    public BlockIoException(String message, IOException cause) {
        super(isNoSpace(cause) ? BlockErrorKind.NO_SPACE : BlockErrorKind.IO_ERROR, message, cause);
    }

    public BlockIoException(BlockErrorKind kind, String message, IOException cause) {
        super(kind, message, cause);
    }

    public boolean isNoSpace() {
        return kind() == BlockErrorKind.NO_SPACE;
    }

    private static boolean isNoSpace(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof NoSpaceIOException) {
                return true;
            }
            String m = t.getMessage();
            if (m != null && m.contains("No space left on device")) {
                return true;
            }
        }
        return false;
    }
}
