package dev.blockpull.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Sizes on the command line are binary multiples, as qemu-img and virsh read them. */
class SizesTests {

    @ParameterizedTest
    @CsvSource({
        "1048576,1048576",
        "512K,524288",
        "512k,524288",
        "50M,52428800",
        "50MiB,52428800",
        "50MB/s,52428800",
        "1.5G,1610612736",
        "2T,2199023255552",
        "0,0"
    })
    void sizesAreParsedAsBinaryMultiples(String text, long bytes) {
        assertThat(Sizes.parse(text)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "fast", "-1M", "5X", "1e6"})
    void anythingElseIsRefusedWithAnExample(String text) {
        assertThatIllegalArgumentException().isThrownBy(() -> Sizes.parse(text)).withMessageContaining("50M");
    }

    @Test
    void humanSizesUseTheLargestUnitWithOneDecimal() {
        assertThat(Sizes.human(512)).isEqualTo("512 B");
        assertThat(Sizes.human(1536)).isEqualTo("1.5 KiB");
        assertThat(Sizes.human(52428800)).isEqualTo("50.0 MiB");
    }
}
