package dev.blockpull.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.blockpull.io.BlockErrorKind;
import org.junit.jupiter.api.Test;

class JobIdsTests {

    @Test
    void idsStartingWithALetterFollowedByLettersDigitsDashDotUnderscoreAreWellFormed() {
        assertThat(JobIds.isWellFormed("s")).isTrue();
        assertThat(JobIds.isWellFormed("Stream-1.top_2")).isTrue();
    }

    @Test
    void emptyDigitFirstPunctuationFirstAndOtherCharactersAreMalformed() {
        assertThat(JobIds.isWellFormed("")).isFalse();
        assertThat(JobIds.isWellFormed("1job")).isFalse();
        assertThat(JobIds.isWellFormed("-job")).isFalse();
        assertThat(JobIds.isWellFormed("#block123")).isFalse();
        assertThat(JobIds.isWellFormed("job 1")).isFalse();
        assertThat(JobIds.isWellFormed("jöb")).isFalse();
    }

    @Test
    void checkRejectsAMalformedIdWithQemusMessage() {
        assertThatExceptionOfType(InvalidJobIdException.class)
                .isThrownBy(() -> JobIds.check(""))
                .withMessage("Invalid job ID ''")
                .satisfies(e -> assertThat(e.kind()).isEqualTo(BlockErrorKind.INVALID_ARGUMENT));
    }
}
