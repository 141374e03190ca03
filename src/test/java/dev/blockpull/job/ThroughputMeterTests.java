package dev.blockpull.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ThroughputMeterTests {

    private static final long S = 1_000_000_000L;
    private final AtomicLong now = new AtomicLong(-3 * S);
    private final ThroughputMeter meter = new ThroughputMeter(Duration.ofSeconds(5), now::get);

    @Test
    void aMeterThatHasNotStartedReportsZero() {
        assertThat(meter.bytesPerSecond()).isZero();
    }

    @Test
    void aYoungJobIsAveragedOverItsAge() {
        meter.start();
        now.addAndGet(S);
        meter.record(1_000_000);
        now.addAndGet(S);
        meter.record(1_000_000);
        assertThat(meter.bytesPerSecond()).isEqualTo(1_000_000);
    }

    @Test
    void onlyTheWindowCounts() {
        meter.start();
        meter.record(100_000_000);
        now.addAndGet(6 * S);
        for (int i = 0; i < 5; i++) {
            now.addAndGet(S);
            meter.record(2_000_000);
        }
        assertThat(meter.bytesPerSecond()).isEqualTo(2_000_000);
    }

    @Test
    void aStalledJobDecaysToZero() {
        meter.start();
        now.addAndGet(S);
        meter.record(5_000_000);
        now.addAndGet(10 * S);
        assertThat(meter.bytesPerSecond()).isZero();
    }
}
