package dev.blockpull.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIOException;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FaultInjectingBlockFileTests {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private FaultInjectingBlockFile file;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeEach
    void openFile() throws IOException {
        Files.write(dir.resolve("disk.img"), new byte[4096]);
        file = new FaultInjectingBlockFile(FileChannelBlockFile.open(dir.resolve("disk.img"), false, false));
    }

    @AfterEach
    void closeFile() throws IOException {
        file.gate().open();
        pool.shutdownNow();
        file.close();
    }

    @Test
    void failWriteFailsOnlyTheNthWriteCountedFromWhenTheRuleWasSet() throws IOException {
        write("before", 0);
        file.failWrite(2);

        write("first", 0);
        assertThatIOException().isThrownBy(() -> write("second", 100)).withMessage("Input/output error");
        write("third", 200);

        assertThat(read(100, 6)).isEqualTo(new byte[6]);
        assertThat(read(200, 5)).isEqualTo(bytes("third"));
    }

    @Test
    void crashAtWriteFailsThatWriteAndEveryLaterWriteForceAndTruncate() throws IOException {
        file.crashAtWrite(2);
        write("first", 0);
        file.force(true);

        assertThatIOException().isThrownBy(() -> write("second", 100));
        assertThatIOException().isThrownBy(() -> write("third", 200));
        assertThatIOException().isThrownBy(() -> file.force(false));
        assertThatIOException().isThrownBy(() -> file.truncate(0));
        assertThat(read(0, 5)).isEqualTo(bytes("first"));
        assertThat(file.size()).isEqualTo(4096);
    }

    @Test
    void removingTheCrashRuleBringsTheFileBack() throws IOException {
        FaultRule crash = file.crashAtWrite(1);
        assertThatIOException().isThrownBy(() -> write("x", 0));

        file.removeRule(crash);

        assertThatNoException().isThrownBy(() -> write("x", 0));
        assertThat(file.rules()).isEmpty();
    }

    @Test
    void failReadsFailsOnlyReadsThatOverlapTheRange() throws IOException {
        file.failReads(1000, 100);

        assertThatIOException().isThrownBy(() -> read(990, 11)).withMessage("Input/output error");
        assertThatIOException().isThrownBy(() -> read(1099, 1));
        assertThat(read(990, 10)).hasSize(10);
        assertThat(read(1100, 10)).hasSize(10);
        write("writes still work", 1000);
    }

    @Test
    void failWritesFailsOnlyWritesThatOverlapTheRangeAndLeavesTheFileAlone() throws IOException {
        file.failWrites(1000, 100);

        assertThatIOException().isThrownBy(() -> write("abc", 1098));
        write("abc", 997);
        write("abc", 1100);

        assertThat(read(1098, 2)).isEqualTo(new byte[2]);
        assertThat(read(1000, 10)).hasSize(10);
    }

    @Test
    void failReadsAndWritesFailsBoth() {
        file.failReadsAndWrites(0, 1);

        assertThatIOException().isThrownBy(() -> read(0, 1));
        assertThatIOException().isThrownBy(() -> write("x", 0));
    }

    @Test
    void noSpaceAfterFailsTheWriteThatWouldPassTheLimitWithEnospc() throws IOException {
        write("not counted", 0);
        file.noSpaceAfter(10);

        write("123456", 0);
        assertThatExceptionOfType(NoSpaceIOException.class)
                .isThrownBy(() -> write("12345", 6))
                .withMessage("No space left on device");
        write("1234", 6);
        assertThatExceptionOfType(NoSpaceIOException.class).isThrownBy(() -> write("1", 10));
    }

    @Test
    void injectedEnospcBecomesABlockIoExceptionOfKindNoSpace() {
        file.noSpaceAfter(0);

        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> write("x", 0));

        assertThat(new BlockIoException("write failed", e).kind()).isEqualTo(BlockErrorKind.NO_SPACE);
    }

    @Test
    void rulesCombineAndTheFirstThatObjectsWins() throws IOException {
        file.failWrites(0, 10);
        file.failWrite(2);

        assertThatIOException().isThrownBy(() -> write("x", 5));
        assertThatIOException().isThrownBy(() -> write("x", 500));
        write("x", 500);
    }

    @Test
    void clearRulesRemovesEveryFault() throws IOException {
        file.failReadsAndWrites(0, 4096);
        file.noSpaceAfter(0);

        file.clearRules();

        write("fine", 0);
        assertThat(read(0, 4)).isEqualTo(bytes("fine"));
    }

    @Test
    void exactlyTheNthWriteFailsWhenManyThreadsWrite() throws Exception {
        file.failWrite(50);
        AtomicInteger failures = new AtomicInteger();
        List<Future<?>> done = new java.util.ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            done.add(pool.submit(() -> {
                for (int i = 0; i < 25; i++) {
                    try {
                        write("x", thread * 100 + i);
                    } catch (IOException e) {
                        failures.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(10, TimeUnit.SECONDS);
        }

        assertThat(failures).hasValue(1);
        assertThat(file.counters().writes()).isEqualTo(199);
    }

    @Test
    void closedGateParksWritesUntilItOpens() throws Exception {
        file.gate().close();
        Future<?> writing = pool.submit(() -> {
            write("late", 0);
            return null;
        });

        assertThat(file.gate().awaitWaiting(1, TIMEOUT)).isTrue();
        assertThat(writing).isNotDone();
        assertThat(Files.readAllBytes(dir.resolve("disk.img"))).startsWith(new byte[4]);
    }

    @Test
    void openingTheGateReleasesEveryParkedOperation() throws Exception {
        file.gate().close();
        Future<?> writing = pool.submit(() -> {
            write("late", 0);
            return null;
        });
        Future<?> reading = pool.submit(() -> read(100, 4));
        Future<?> forcing = pool.submit(() -> {
            file.force(true);
            return null;
        });
        assertThat(file.gate().awaitWaiting(3, TIMEOUT)).isTrue();

        file.gate().open();

        writing.get(10, TimeUnit.SECONDS);
        reading.get(10, TimeUnit.SECONDS);
        forcing.get(10, TimeUnit.SECONDS);
        assertThat(file.gate().waiting()).isZero();
        assertThat(read(0, 4)).isEqualTo(bytes("late"));
    }

    @Test
    void awaitWaitingReturnsFalseWhenTooFewOperationsArrive() throws Exception {
        file.gate().close();

        assertThat(file.gate().awaitWaiting(1, Duration.ofMillis(50))).isFalse();
    }

    @Test
    void interruptingAParkedOperationFailsItWithInterruptedIoException() throws Exception {
        file.gate().close();
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        Thread writer = new Thread(() -> {
            try {
                write("x", 0);
                failure.complete(new AssertionError("write went through a closed gate"));
            } catch (Throwable t) {
                failure.complete(t);
            }
        });
        writer.start();
        assertThat(file.gate().awaitWaiting(1, TIMEOUT)).isTrue();

        writer.interrupt();

        assertThat(failure.get(10, TimeUnit.SECONDS)).isInstanceOf(InterruptedIOException.class);
        await().atMost(TIMEOUT)
                .untilAsserted(() -> assertThat(file.gate().waiting()).isZero());
    }

    @Test
    void journalRecordsCompletedWritesForcesAndTruncatesInOrder() throws IOException {
        write("ignored", 0);
        WriteJournal journal = file.startJournal();

        write("ab", 10);
        file.force(true);
        file.failWrite(1);
        assertThatIOException().isThrownBy(() -> write("lost", 20));
        file.truncate(8192);

        assertThat(journal.entries())
                .containsExactly(
                        new JournalEntry.Write(10, bytes("ab")),
                        new JournalEntry.Force(),
                        new JournalEntry.Truncate(8192));
    }

    @Test
    void stoppedJournalRecordsNothingMore() throws IOException {
        WriteJournal journal = file.startJournal();
        file.stopJournal();

        write("ab", 10);

        assertThat(journal.size()).isZero();
        assertThat(file.journal()).isNull();
    }

    @Test
    void replayOfAJournalPrefixGivesTheFileAsItWasAfterThoseOperations() throws IOException {
        Path original = dir.resolve("original.img");
        Files.copy(dir.resolve("disk.img"), original);
        WriteJournal journal = file.startJournal();
        write("one", 0);
        file.force(true);
        write("two", 0);
        write("three", 4096);

        Path copy = dir.resolve("replayed.img");
        Files.copy(original, copy);
        try (BlockFile target = FileChannelBlockFile.open(copy, false, false)) {
            FaultInjectingBlockFile.replay(journal.entries(), 2, target);
        }

        byte[] expected = new byte[4096];
        System.arraycopy(bytes("one"), 0, expected, 0, 3);
        assertThat(Files.readAllBytes(copy)).isEqualTo(expected);
    }

    @Test
    void replayOfTheWholeJournalReproducesTheFile() throws IOException {
        Path copy = dir.resolve("replayed.img");
        Files.copy(dir.resolve("disk.img"), copy);
        WriteJournal journal = file.startJournal();
        write("one", 0);
        write("two", 5000);
        file.truncate(6000);

        try (BlockFile target = FileChannelBlockFile.open(copy, false, false)) {
            FaultInjectingBlockFile.replay(journal.entries(), journal.size(), target);
        }

        assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(dir.resolve("disk.img")));
    }

    @Test
    void journalledWriteDataCannotBeChangedAfterwards() throws IOException {
        WriteJournal journal = file.startJournal();
        byte[] data = bytes("abc");
        file.write(ByteBuffer.wrap(data), 0);
        data[0] = 'X';

        JournalEntry.Write entry = (JournalEntry.Write) journal.entries().get(0);
        entry.data()[1] = 'Y';

        assertThat(entry.data()).isEqualTo(bytes("abc"));
    }

    @Test
    void countersCountCompletedOperationsOnly() throws IOException {
        write("abcd", 0);
        write("ef", 10);
        file.failWrite(1);
        assertThatIOException().isThrownBy(() -> write("lost", 0));
        read(0, 4);
        file.force(false);

        assertThat(file.counters().writes()).isEqualTo(2);
        assertThat(file.counters().bytesWritten()).isEqualTo(6);
        assertThat(file.counters().reads()).isEqualTo(1);
        assertThat(file.counters().forces()).isEqualTo(1);
    }

    private void write(String text, long position) throws IOException {
        file.write(ByteBuffer.wrap(bytes(text)), position);
    }

    private byte[] read(long position, int length) throws IOException {
        ByteBuffer dst = ByteBuffer.allocate(length);
        file.read(dst, position);
        return dst.array();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
