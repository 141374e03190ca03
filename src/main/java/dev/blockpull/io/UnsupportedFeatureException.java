package dev.blockpull.io;

/** The image is valid but uses a feature the engine does not implement. */
public class UnsupportedFeatureException extends BlockException {

    public UnsupportedFeatureException(String message) {
        super(BlockErrorKind.UNSUPPORTED, message);
    }
}
