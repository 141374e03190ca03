package dev.blockpull.io;

/** Malformed or inconsistent image metadata: the image is refused, never half-read. */
public class InvalidImageException extends BlockException {

    public InvalidImageException(String message) {
        super(BlockErrorKind.INVALID_IMAGE, message);
    }
}
