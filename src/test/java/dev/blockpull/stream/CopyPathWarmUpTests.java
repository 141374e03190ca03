package dev.blockpull.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The start-up warm-up: a real stream of a private chain, nothing left behind, never a failed start. */
class CopyPathWarmUpTests {

    @TempDir
    Path tmp;

    @Test
    void theWarmUpStreamsItsChainAndLeavesNothingBehind() throws IOException {
        assertThat(CopyPathWarmUp.run(tmp, false, StreamSettings.defaults())).isPresent();

        assertThat(entries(tmp)).as("entries left in the temporary directory").isZero();
    }

    @Test
    void theWarmUpRunsWithDirectIoToo() throws IOException {
        assertThat(CopyPathWarmUp.run(tmp, true, StreamSettings.defaults())).isPresent();

        assertThat(entries(tmp)).as("entries left in the temporary directory").isZero();
    }

    @Test
    void aWarmUpWithoutAUsableDirectoryIsSkippedNotThrown() {
        assertThat(CopyPathWarmUp.run(tmp.resolve("missing"), false, StreamSettings.defaults()))
                .isEmpty();
    }

    private static long entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }
}
