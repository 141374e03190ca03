package dev.blockpull.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.NoSpaceIOException;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class OnErrorPolicyTests {

    @Test
    void eachPolicyDecidesAsQemusBlockJobErrorAction() {
        assertThat(OnErrorPolicy.REPORT.decide(true)).isEqualTo(ErrorAction.REPORT);
        assertThat(OnErrorPolicy.REPORT.decide(false)).isEqualTo(ErrorAction.REPORT);
        assertThat(OnErrorPolicy.IGNORE.decide(true)).isEqualTo(ErrorAction.IGNORE);
        assertThat(OnErrorPolicy.IGNORE.decide(false)).isEqualTo(ErrorAction.IGNORE);
        assertThat(OnErrorPolicy.STOP.decide(true)).isEqualTo(ErrorAction.STOP);
        assertThat(OnErrorPolicy.STOP.decide(false)).isEqualTo(ErrorAction.STOP);
        assertThat(OnErrorPolicy.ENOSPC.decide(true)).isEqualTo(ErrorAction.STOP);
        assertThat(OnErrorPolicy.ENOSPC.decide(false)).isEqualTo(ErrorAction.REPORT);
        assertThat(OnErrorPolicy.AUTO.decide(true)).isEqualTo(ErrorAction.STOP);
        assertThat(OnErrorPolicy.AUTO.decide(false)).isEqualTo(ErrorAction.REPORT);
    }

    @Test
    void errorTextIsTheErrnoTextForStorageErrorsAndTheMessageOtherwise() {
        assertThat(ErrorTexts.of(new BlockIoException("read of /x at 0 failed", new IOException("boom"))))
                .isEqualTo("Input/output error");
        assertThat(ErrorTexts.of(
                        new BlockIoException("write failed", new NoSpaceIOException("No space left on device"))))
                .isEqualTo("No space left on device");
        assertThat(ErrorTexts.of(
                        new dev.blockpull.io.BlockException(BlockErrorKind.CONFLICT, "Operation not permitted")))
                .isEqualTo("Operation not permitted");
    }

    @Test
    void noSpaceIsRecognisedThroughTheCauseChain() {
        assertThat(ErrorTexts.isNoSpace(new RuntimeException(new NoSpaceIOException("disk full"))))
                .isTrue();
        assertThat(ErrorTexts.isNoSpace(new IOException("Input/output error"))).isFalse();
    }
}
