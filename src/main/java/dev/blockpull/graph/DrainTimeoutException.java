package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import java.time.Duration;

/** A bounded drain gave up: requests or jobs did not come to rest in time. Nothing was changed. */
public class DrainTimeoutException extends BlockException {

    public DrainTimeoutException(String busy, Duration waited) {
        super(
                BlockErrorKind.CONFLICT,
                "Timed out after " + waited.toMillis() + " ms waiting for I/O to stop: " + busy
                        + "; nothing was changed, try again later");
    }
}
