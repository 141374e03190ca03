package dev.blockpull.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DaemonThreadsTests {

    @Test
    void dataPathThreadsAreNamedDaemonsAtTheLowestPriority() {
        Thread t = DaemonThreads.dataPath("copy-").newThread(() -> {});

        assertThat(t.getName()).isEqualTo("copy-1");
        assertThat(t.isDaemon()).isTrue();
        assertThat(t.getPriority()).isEqualTo(Thread.MIN_PRIORITY);
    }

    @Test
    void namedThreadsMadeOnADataPathThreadKeepTheNormalPriority() throws Exception {
        DaemonThreads events = DaemonThreads.named("events-");
        CompletableFuture<Thread> made = new CompletableFuture<>();
        Thread dataPath = DaemonThreads.dataPath("job-").newThread(() -> made.complete(events.newThread(() -> {})));
        dataPath.start();

        Thread t = made.get(10, TimeUnit.SECONDS);

        assertThat(t.getName()).isEqualTo("events-1");
        assertThat(t.getPriority()).isEqualTo(Thread.NORM_PRIORITY);
    }

    @Test
    void aThreadGivenItsOwnNameKeepsTheFactorysKind() {
        Thread t = DaemonThreads.dataPath("nbd-1-client-").newThread(() -> {}, "nbd-1-client-7");

        assertThat(t.getName()).isEqualTo("nbd-1-client-7");
        assertThat(t.isDaemon()).isTrue();
        assertThat(t.getPriority()).isEqualTo(Thread.MIN_PRIORITY);
    }

    @Test
    void withTheShippedThreadPriorityPolicyLinuxRunsDataPathThreadsAtNiceFourAndTheOthersAtZero() throws Exception {
        Process child = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-XX:ThreadPriorityPolicy=1",
                        "-cp",
                        System.getProperty("java.class.path"),
                        NiceProbe.class.getName())
                .redirectErrorStream(false)
                .start();
        List<String> out;
        try (var stdout = child.getInputStream()) {
            out = new String(stdout.readAllBytes(), StandardCharsets.UTF_8)
                    .lines()
                    .toList();
        }

        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).containsExactly("dataPath 4", "named 0");
    }

    /** Run in a child JVM: prints the Linux nice value of a data-path and of a named thread. */
    public static final class NiceProbe {
        public static void main(String[] args) throws Exception {
            System.out.println("dataPath " + niceOf(DaemonThreads.dataPath("probe-data-")));
            System.out.println("named " + niceOf(DaemonThreads.named("probe-named-")));
        }

        private static String niceOf(DaemonThreads threads) throws Exception {
            CompletableFuture<String> nice = new CompletableFuture<>();
            Thread t = threads.newThread(() -> {
                try {
                    nice.complete(ownNice());
                } catch (IOException e) {
                    nice.completeExceptionally(e);
                }
            });
            t.start();
            return nice.get(10, TimeUnit.SECONDS);
        }

        /** Field 19 of /proc/thread-self/stat (proc(5)); the fields after the command name start at 3. */
        private static String ownNice() throws IOException {
            String stat = Files.readString(Path.of("/proc/thread-self/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16];
        }
    }
}
