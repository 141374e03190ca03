package dev.blockpull.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
    void withTheShippedPriorityOptionsDataPathThreadsRunAtNiceTenAndTheOthersAtZeroWhereverStarted() throws Exception {
        List<String> command = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            // the image's user: no CAP_SYS_NICE, so a nice value once raised cannot come down again
            command.addAll(List.of("setpriv", "--bounding-set=-sys_nice", "--inh-caps=-sys_nice"));
        }
        command.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:ThreadPriorityPolicy=1",
                "-XX:JavaPriority1_To_OSPriority=10",
                "-cp",
                System.getProperty("java.class.path"),
                NiceProbe.class.getName()));
        Process child = new ProcessBuilder(command).redirectErrorStream(false).start();
        List<String> out;
        try (var stdout = child.getInputStream()) {
            out = new String(stdout.readAllBytes(), StandardCharsets.UTF_8)
                    .lines()
                    .toList();
        }

        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).containsExactly("dataPath 10", "named 0", "named, started on the data path 0");
    }

    /**
     * Run in a child JVM: prints the Linux nice value of a data-path thread, of a named thread, and
     * of a named thread that a data-path thread starts.
     */
    public static final class NiceProbe {
        public static void main(String[] args) throws Exception {
            System.out.println("dataPath " + niceOf(DaemonThreads.dataPath("probe-data-")));
            DaemonThreads named = DaemonThreads.named("probe-named-");
            System.out.println("named " + niceOf(named));
            CompletableFuture<String> startedOnDataPath = new CompletableFuture<>();
            DaemonThreads.dataPath("probe-starter-")
                    .newThread(() -> {
                        try {
                            startedOnDataPath.complete(niceOf(named));
                        } catch (Exception e) {
                            startedOnDataPath.completeExceptionally(e);
                        }
                    })
                    .start();
            System.out.println("named, started on the data path " + startedOnDataPath.get(10, TimeUnit.SECONDS));
        }

        private static String niceOf(DaemonThreads threads) throws Exception {
            CompletableFuture<String> nice = new CompletableFuture<>();
            threads.newThread(() -> {
                        try {
                            nice.complete(ownNice());
                        } catch (IOException e) {
                            nice.completeExceptionally(e);
                        }
                    })
                    .start();
            return nice.get(10, TimeUnit.SECONDS);
        }

        /** Field 19 of /proc/thread-self/stat (proc(5)); the fields after the command name start at 3. */
        private static String ownNice() throws IOException {
            String stat = Files.readString(Path.of("/proc/thread-self/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16];
        }
    }
}
