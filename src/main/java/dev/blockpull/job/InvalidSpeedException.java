package dev.blockpull.job;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/** A negative speed, at creation or by set-speed: QEMU's QERR_INVALID_PARAMETER_VALUE text. */
public class InvalidSpeedException extends BlockException {

    public InvalidSpeedException() {
        super(BlockErrorKind.INVALID_ARGUMENT, "Parameter 'speed' expects a non-negative value");
    }
}
