package dev.blockpull.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What {@code --wait} draws: a bar redrawn in place on a terminal, a line per change elsewhere. */
class ProgressDisplayTests {

    static final long MIB = 1024 * 1024;

    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    String printed() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    static JobProgress running(long offset, long bytesPerSecond, Long eta) {
        return new JobProgress("s1", "running", offset, 100 * MIB, bytesPerSecond, eta);
    }

    @Test
    void onATerminalTheBarShowsPercentRateAndEtaAndIsRedrawnInPlace() {
        ProgressDisplay bar = ProgressDisplay.on(out, true);

        bar.show(running(10 * MIB, 5 * MIB, 18L));
        bar.show(running(50 * MIB, 5 * MIB, 10L));
        bar.finish();

        assertThat(printed())
                .isEqualTo("\rs1 [###...........................]  10%  5.0 MiB/s  ETA 0:18  running"
                        + "\rs1 [###############...............]  50%  5.0 MiB/s  ETA 0:10  running\n");
    }

    @Test
    void aShorterLineOverwritesTheRestOfTheLongerOneBeforeIt() {
        ProgressDisplay bar = ProgressDisplay.on(out, true);

        bar.show(running(50 * MIB, 5 * MIB, 10L));
        bar.show(new JobProgress("s1", "paused", 50 * MIB, 100 * MIB, 0, null));

        String second = printed().substring(printed().lastIndexOf('\r'));
        assertThat(second)
                .startsWith("\rs1 [###############...............]  50%  paused")
                .hasSize(printed().indexOf('\r', 1));
    }

    @Test
    void withoutATerminalALineIsWrittenOnlyWhenStatusOrWholePercentChanges() {
        ProgressDisplay lines = ProgressDisplay.on(out, false);

        lines.show(running(10 * MIB, 5 * MIB, 18L));
        lines.show(running(10 * MIB + 1, 6 * MIB, 17L));
        lines.show(running(11 * MIB, 6 * MIB, 16L));
        lines.show(new JobProgress("s1", "waiting", 100 * MIB, 100 * MIB, 0, null));
        lines.finish();

        assertThat(printed())
                .isEqualTo("s1 running 10%  5.0 MiB/s  ETA 0:18\n"
                        + "s1 running 11%  6.0 MiB/s  ETA 0:16\n"
                        + "s1 waiting 100%\n");
    }
}
