package dev.blockpull.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileChannelBlockFileTests {

    @TempDir
    Path dir;

    @Test
    void writeThenReadReturnsTheSameBytes() throws IOException {
        try (BlockFile file = FileChannelBlockFile.create(dir.resolve("a.img"))) {
            file.write(ByteBuffer.wrap(bytes("hello")), 100);
            ByteBuffer dst = ByteBuffer.allocate(5);

            assertThat(file.read(dst, 100)).isEqualTo(5);
            assertThat(dst.array()).isEqualTo(bytes("hello"));
        }
    }

    @Test
    void readStopsAtEndOfFileAndReturnsTheBytesRead() throws IOException {
        Path path = file("a.img", bytes("0123456789"));
        try (BlockFile file = FileChannelBlockFile.open(path, true, false)) {
            ByteBuffer dst = ByteBuffer.allocate(8);

            assertThat(file.read(dst, 6)).isEqualTo(4);
            assertThat(dst.position()).isEqualTo(4);
            assertThat(Arrays.copyOf(dst.array(), 4)).isEqualTo(bytes("6789"));
        }
    }

    @Test
    void readAtOrPastEndOfFileReturnsZero() throws IOException {
        Path path = file("a.img", bytes("0123"));
        try (BlockFile file = FileChannelBlockFile.open(path, true, false)) {
            assertThat(file.read(ByteBuffer.allocate(4), 4)).isZero();
            assertThat(file.read(ByteBuffer.allocate(4), 1000)).isZero();
        }
    }

    @Test
    void writePastEndOfFileGrowsItWithAHoleThatReadsAsZeros() throws IOException {
        try (BlockFile file = FileChannelBlockFile.create(dir.resolve("a.img"))) {
            file.write(ByteBuffer.wrap(bytes("x")), 64L << 20);

            assertThat(file.size()).isEqualTo((64L << 20) + 1);
            ByteBuffer dst = ByteBuffer.allocate(4096);
            assertThat(file.read(dst, 1 << 20)).isEqualTo(4096);
            assertThat(dst.array()).containsOnly(0);
            assertThat(allocatedBytes(file.path())).isLessThan(1 << 20);
        }
    }

    @Test
    void truncateGrowsSparselyAndCuts() throws IOException {
        try (BlockFile file = FileChannelBlockFile.create(dir.resolve("a.img"))) {
            file.write(ByteBuffer.wrap(bytes("abcdef")), 0);

            file.truncate(256L << 20);
            assertThat(file.size()).isEqualTo(256L << 20);
            assertThat(allocatedBytes(file.path())).isLessThan(1 << 20);

            file.truncate(3);
            assertThat(file.size()).isEqualTo(3);
            assertThat(Files.readAllBytes(file.path())).isEqualTo(bytes("abc"));
        }
    }

    @Test
    void createRefusesAnExistingFileWithConflictAndLeavesItUntouched() throws IOException {
        Path path = file("a.img", bytes("precious"));

        assertThatExceptionOfType(BlockException.class)
                .isThrownBy(() -> FileChannelBlockFile.create(path))
                .withMessageContaining("already exists")
                .satisfies(e -> assertThat(e.kind()).isEqualTo(BlockErrorKind.CONFLICT));
        assertThat(Files.readAllBytes(path)).isEqualTo(bytes("precious"));
    }

    @Test
    void writeToReadOnlyFileIsRefusedWithoutTouchingIt() throws IOException {
        Path path = file("a.img", bytes("precious"));
        try (BlockFile file = FileChannelBlockFile.open(path, true, false)) {
            assertThat(file.isReadOnly()).isTrue();
            assertThatExceptionOfType(BlockException.class)
                    .isThrownBy(() -> file.write(ByteBuffer.wrap(bytes("evil")), 0))
                    .satisfies(e -> assertThat(e.kind()).isEqualTo(BlockErrorKind.READ_ONLY));
            assertThatExceptionOfType(BlockException.class)
                    .isThrownBy(() -> file.truncate(0))
                    .satisfies(e -> assertThat(e.kind()).isEqualTo(BlockErrorKind.READ_ONLY));
        }
        assertThat(Files.readAllBytes(path)).isEqualTo(bytes("precious"));
    }

    @Test
    void openOfMissingFileThrowsNoSuchFile() {
        assertThatExceptionOfType(java.nio.file.NoSuchFileException.class)
                .isThrownBy(() -> FileChannelBlockFile.open(dir.resolve("missing.img"), false, false));
    }

    @Test
    void directOpenUsesODirectWhereTheFileSystemSupportsIt() throws IOException {
        Path path = file("a.img", new byte[8192]);
        try (FileChannelBlockFile file = FileChannelBlockFile.open(path, false, true)) {
            assumeTrue(file.isDirect(), "the temp directory's file system refuses O_DIRECT");
            assertThat(file.toString()).contains("direct");
        }
    }

    @Test
    void directOpenFallsBackToBufferedIoWhenTheFileSystemRefusesODirect() throws IOException {
        Path procFile = Path.of("/proc/self/status"); // procfs answers O_DIRECT with EINVAL
        assumeTrue(Files.isReadable(procFile), "needs Linux procfs");
        try (FileChannelBlockFile file = FileChannelBlockFile.open(procFile, true, true)) {
            assertThat(file.isDirect()).isFalse();
            ByteBuffer dst = ByteBuffer.allocate(5);
            assertThat(file.read(dst, 0)).isEqualTo(5);
            assertThat(dst.array()).isEqualTo(bytes("Name:"));
        }
    }

    @Test
    void directUnalignedReadReturnsTheRequestedBytes() throws IOException {
        byte[] content = randomBytes(3 * 4096 + 100, 1);
        try (FileChannelBlockFile file = openDirect(file("a.img", content))) {
            ByteBuffer dst = ByteBuffer.allocate(5000);

            assertThat(file.read(dst, 333)).isEqualTo(5000);
            assertThat(dst.array()).isEqualTo(Arrays.copyOfRange(content, 333, 5333));
        }
    }

    @Test
    void directUnalignedReadAcrossEndOfFileReturnsOnlyTheBytesThere() throws IOException {
        byte[] content = randomBytes(4096 + 100, 2);
        try (FileChannelBlockFile file = openDirect(file("a.img", content))) {
            ByteBuffer dst = ByteBuffer.allocate(4096);

            assertThat(file.read(dst, 4000)).isEqualTo(196);
            assertThat(Arrays.copyOf(dst.array(), 196)).isEqualTo(Arrays.copyOfRange(content, 4000, 4196));
            assertThat(file.read(ByteBuffer.allocate(10), 5000)).isZero();
        }
    }

    @Test
    void directUnalignedWriteKeepsTheNeighbouringBytesOfItsBlocks() throws IOException {
        byte[] content = randomBytes(4 * 4096, 3);
        Path path = file("a.img", content);
        try (FileChannelBlockFile file = openDirect(path)) {
            file.write(ByteBuffer.wrap(bytes("0123456789")), 4090);
        }
        System.arraycopy(bytes("0123456789"), 0, content, 4090, 10);
        assertThat(Files.readAllBytes(path)).isEqualTo(content);
    }

    @Test
    void directUnalignedWritePastEndOfFileLeavesTheExactSize() throws IOException {
        Path path = file("a.img", bytes("abc"));
        try (FileChannelBlockFile file = openDirect(path)) {
            file.write(ByteBuffer.wrap(bytes("xyz")), 10_000);

            assertThat(file.size()).isEqualTo(10_003);
        }
        byte[] expected = new byte[10_003];
        System.arraycopy(bytes("abc"), 0, expected, 0, 3);
        System.arraycopy(bytes("xyz"), 0, expected, 10_000, 3);
        assertThat(Files.readAllBytes(path)).isEqualTo(expected);
    }

    @Test
    void directIoWithHeapBuffersLeavesLaterBufferedIoOnTheThreadWorking() throws IOException {
        byte[] block = randomBytes(4096, 5);
        try (FileChannelBlockFile file = openDirect(file("a.img", new byte[0]))) {
            file.write(ByteBuffer.wrap(block), 0);
            assertThat(file.read(ByteBuffer.allocate(4096), 0)).isEqualTo(4096);
        }
        // a bigger ordinary read makes the JDK evict its cached temporary buffers
        Path big = file("big.img", new byte[1 << 20]);
        assertThat(Files.readAllBytes(big)).hasSize(1 << 20);
    }

    @Test
    void directAlignedWriteOfHeapAndDirectBuffersGoesThrough() throws IOException {
        Path path = file("a.img", new byte[0]);
        byte[] block = randomBytes(4096, 4);
        try (FileChannelBlockFile file = openDirect(path)) {
            file.write(ByteBuffer.wrap(block), 0);
            ByteBuffer aligned =
                    ByteBuffer.allocateDirect(2 * 4096).alignedSlice(4096).limit(4096);
            aligned.put(block).flip();
            file.write(aligned, 4096);
            ByteBuffer unalignedAddress =
                    ByteBuffer.allocateDirect(4096 + 1).position(1).slice();
            unalignedAddress.put(block).flip();
            file.write(unalignedAddress, 8192);
        }
        assertThat(Files.readAllBytes(path)).hasSize(3 * 4096).startsWith(block).endsWith(block);
    }

    @Test
    void directFileReadsAndWritesLikeABufferedOne() throws IOException {
        for (int seed = 0; seed < 5; seed++) {
            Path bufferedPath = file("buffered-" + seed + ".img", new byte[0]);
            Path directPath = file("direct-" + seed + ".img", new byte[0]);
            Random random = new Random(seed);
            try (BlockFile buffered = FileChannelBlockFile.open(bufferedPath, false, false);
                    FileChannelBlockFile direct = openDirect(directPath)) {
                for (int i = 0; i < 200; i++) {
                    long position = random.nextInt(64 * 1024);
                    int length = 1 + random.nextInt(random.nextBoolean() ? 100 : 10_000);
                    if (random.nextInt(3) == 0) {
                        ByteBuffer a = ByteBuffer.allocate(length);
                        ByteBuffer b = ByteBuffer.allocate(length);
                        assertThat(direct.read(b, position)).isEqualTo(buffered.read(a, position));
                        assertThat(b.array()).isEqualTo(a.array());
                    } else {
                        byte[] data = randomBytes(length, i);
                        buffered.write(ByteBuffer.wrap(data), position);
                        direct.write(ByteBuffer.wrap(data), position);
                    }
                    // compare everything after every step: a stray write can land anywhere
                    assertThat(direct.size()).isEqualTo(buffered.size());
                    assertThat(readAll(direct)).as("seed %d, step %d", seed, i).isEqualTo(readAll(buffered));
                }
            }
        }
    }

    @Test
    void directUnalignedWriteLeavesTheFollowingBlockAlone() throws IOException {
        byte[] content = randomBytes(3 * 4096, 6);
        Path path = file("a.img", content);
        try (FileChannelBlockFile file = openDirect(path)) {
            // whether an aligned slice comes out a block too long depends on where the allocation
            // happens to land: try often enough to see both cases
            for (int i = 0; i < 3000; i++) {
                file.write(ByteBuffer.wrap(new byte[] {7}), 4000);
            }
        }
        content[4000] = 7;
        assertThat(Files.readAllBytes(path)).isEqualTo(content);
    }

    @Test
    void directConcurrentUnalignedWritesIntoOneBlockAreAllKept() throws Exception {
        Path path = file("a.img", new byte[4096]);
        int writers = 64;
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        try (FileChannelBlockFile file = openDirect(path)) {
            CompletableFuture<?>[] done = new CompletableFuture<?>[writers];
            for (int i = 0; i < writers; i++) {
                int offset = i * 64;
                done[i] = CompletableFuture.runAsync(
                        () -> {
                            try {
                                start.await();
                                file.write(ByteBuffer.wrap(new byte[] {(byte) (offset / 64 + 1)}), offset);
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        },
                        pool);
            }
            start.countDown();
            CompletableFuture.allOf(done).get(30, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        byte[] content = Files.readAllBytes(path);
        for (int i = 0; i < writers; i++) {
            assertThat(content[i * 64]).as("byte written by writer %d", i).isEqualTo((byte) (i + 1));
        }
    }

    @Test
    void aDirectFileThatGrowsReservesSpaceAheadYetReportsTheLengthItsWritesMade() throws IOException {
        Path path = file("a.img", new byte[0]);
        try (FileChannelBlockFile file = openDirect(path)) {
            file.write(aligned(64 * 1024), 0);

            assertThat(Files.size(path)).as("length on disk").isEqualTo(FileChannelBlockFile.RESERVE_STEP);
            assertThat(file.size()).isEqualTo(64 * 1024);
            assertThat(file.read(aligned(8192), 60 * 1024))
                    .as("a read across the written end")
                    .isEqualTo(4096);
            assertThat(file.read(aligned(4096), 64 * 1024))
                    .as("a read at the written end")
                    .isZero();
        }
    }

    @Test
    void closingADirectFileGivesTheUnwrittenReserveBack() throws IOException {
        Path path = file("a.img", new byte[0]);
        try (FileChannelBlockFile file = openDirect(path)) {
            file.write(
                    aligned(2 * 4096)
                            .put(new byte[4096])
                            .put(randomBytes(4096, 9))
                            .flip(),
                    0);
        }

        assertThat(Files.size(path)).isEqualTo(8192);
        assertThat(Arrays.copyOfRange(Files.readAllBytes(path), 4096, 8192)).isEqualTo(randomBytes(4096, 9));
    }

    @Test
    void aDirectWriteFarPastTheEndReservesNothing() throws IOException {
        Path path = file("a.img", new byte[0]);
        long far = 4 * FileChannelBlockFile.RESERVE_STEP;
        try (FileChannelBlockFile file = openDirect(path)) {
            file.write(aligned(4096), far);

            assertThat(Files.size(path)).isEqualTo(far + 4096);
            assertThat(allocatedBytes(path)).as("allocated on disk").isLessThan(FileChannelBlockFile.RESERVE_STEP);
        }
    }

    @Test
    void aDirectFileTruncatedInsideItsReserveReadsZerosUpToTheNewLength() throws IOException {
        Path path = file("a.img", new byte[0]);
        try (FileChannelBlockFile file = openDirect(path)) {
            file.write(aligned(4096).put(randomBytes(4096, 4)).flip(), 0);

            file.truncate(3 * 4096);

            assertThat(file.size()).isEqualTo(3 * 4096);
            ByteBuffer tail = aligned(2 * 4096);
            assertThat(file.read(tail, 4096)).isEqualTo(2 * 4096);
            assertThat(contentOf(tail)).isEqualTo(new byte[2 * 4096]);
        }
        assertThat(Files.size(path)).isEqualTo(3 * 4096);
    }

    @Test
    void aReadOnceOfAnAlignedRangeIsFetchedFromStorageNotFromThePageCache() throws IOException {
        Path path = file("a.img", randomBytes(1 << 20, 7)); // just written: every page is cached
        try (FileChannelBlockFile file = FileChannelBlockFile.open(path, true, false)) {
            ByteBuffer dst = aligned(1 << 20);
            long before = storageBytesRead();

            assertThat(file.read(dst, 0, ReadHint.ONCE)).isEqualTo(1 << 20);

            assertThat(storageBytesRead() - before)
                    .as("bytes this process fetched from storage")
                    .isGreaterThanOrEqualTo(1 << 20);
            assertThat(contentOf(dst)).isEqualTo(randomBytes(1 << 20, 7));
        }
    }

    @Test
    void aReadOnceSeesWritesThatAreStillOnlyInThePageCache() throws IOException {
        Path path = file("a.img", new byte[64 * 1024]);
        try (FileChannelBlockFile writer = FileChannelBlockFile.open(path, false, false);
                FileChannelBlockFile reader = FileChannelBlockFile.open(path, true, false)) {
            writer.write(ByteBuffer.wrap(randomBytes(8192, 3)), 4096);
            ByteBuffer dst = aligned(16 * 1024);

            assertThat(reader.read(dst, 0, ReadHint.ONCE)).isEqualTo(16 * 1024);

            byte[] expected = new byte[16 * 1024];
            System.arraycopy(randomBytes(8192, 3), 0, expected, 4096, 8192);
            assertThat(contentOf(dst)).isEqualTo(expected);
        }
    }

    @Test
    void aReadOnceOfAnUnalignedRangeOrIntoAHeapBufferReadsAsUsual() throws IOException {
        byte[] content = randomBytes(3 * 4096 + 100, 11);
        Path path = file("a.img", content);
        try (FileChannelBlockFile file = FileChannelBlockFile.open(path, true, false)) {
            ByteBuffer unaligned = ByteBuffer.allocateDirect(5000);
            ByteBuffer heap = ByteBuffer.allocate(4096);

            assertThat(file.read(unaligned, 100, ReadHint.ONCE)).isEqualTo(5000);
            assertThat(file.read(heap, 8192, ReadHint.ONCE)).isEqualTo(4096);

            assertThat(contentOf(unaligned)).isEqualTo(Arrays.copyOfRange(content, 100, 5100));
            assertThat(heap.array()).isEqualTo(Arrays.copyOfRange(content, 8192, 12288));
        }
    }

    @Test
    void aReadOnceStopsAtEndOfFileLikeAnyRead() throws IOException {
        byte[] content = randomBytes(4096 + 100, 5);
        Path path = file("a.img", content);
        try (FileChannelBlockFile file = FileChannelBlockFile.open(path, true, false)) {
            ByteBuffer dst = aligned(3 * 4096);

            assertThat(file.read(dst, 0, ReadHint.ONCE)).isEqualTo(4096 + 100);
            assertThat(Arrays.copyOf(contentOf(dst), 4096 + 100)).isEqualTo(content);
        }
    }

    @Test
    void aReadOnceWhereTheFileSystemRefusesODirectReadsThroughThePageCache() throws IOException {
        Path procFile = Path.of("/proc/self/status"); // procfs answers O_DIRECT with EINVAL
        assumeTrue(Files.isReadable(procFile), "needs Linux procfs");
        try (FileChannelBlockFile file = FileChannelBlockFile.open(procFile, true, false)) {
            ByteBuffer dst = aligned(4096);

            assertThat(file.read(dst, 0, ReadHint.ONCE)).isPositive();
            assertThat(new String(contentOf(dst), StandardCharsets.US_ASCII)).startsWith("Name:");
        }
    }

    @Test
    void aReadOnceAfterTheNameWasRemovedReadsThroughTheOpenFile() throws IOException {
        byte[] content = randomBytes(8192, 13);
        Path path = file("a.img", content);
        try (FileChannelBlockFile file = FileChannelBlockFile.open(path, true, false)) {
            Files.delete(path);
            ByteBuffer dst = aligned(8192);

            assertThat(file.read(dst, 0, ReadHint.ONCE)).isEqualTo(8192);
            assertThat(contentOf(dst)).isEqualTo(content);
        }
    }

    @Test
    void aReadOnceAfterTheNameWasGivenToAnotherFileReadsTheFileThatWasOpened() throws IOException {
        byte[] content = randomBytes(8192, 17);
        Path path = file("a.img", content);
        try (FileChannelBlockFile file = FileChannelBlockFile.open(path, true, false)) {
            Files.move(file("other.img", randomBytes(8192, 19)), path, StandardCopyOption.REPLACE_EXISTING);
            ByteBuffer dst = aligned(8192);

            assertThat(file.read(dst, 0, ReadHint.ONCE)).isEqualTo(8192);
            assertThat(contentOf(dst)).isEqualTo(content);
        }
    }

    @Test
    void twoChannelsOnOneFileAreTheSameFileAndOnTwoFilesAreNot() throws IOException {
        Path a = file("a.img", new byte[4096]);
        Path b = file("b.img", new byte[4096]);
        try (FileChannel a1 = FileChannel.open(a, StandardOpenOption.READ);
                FileChannel a2 = FileChannel.open(a, StandardOpenOption.READ);
                FileChannel b1 = FileChannel.open(b, StandardOpenOption.READ)) {
            assertThat(FileChannelBlockFile.isSameFile(a1, a2)).isTrue();
            assertThat(FileChannelBlockFile.isSameFile(a1, b1)).isFalse();
        }
    }

    /** {@code read_bytes} of /proc/self/io: what this process made the kernel fetch from storage. */
    private static long storageBytesRead() throws IOException {
        Path io = Path.of("/proc/self/io");
        assumeTrue(Files.isReadable(io), "needs Linux task I/O accounting");
        return Files.readAllLines(io).stream()
                .filter(l -> l.startsWith("read_bytes:"))
                .mapToLong(
                        l -> Long.parseLong(l.substring("read_bytes:".length()).trim()))
                .findFirst()
                .orElseThrow();
    }

    private static ByteBuffer aligned(int size) {
        return ByteBuffer.allocateDirect(size + 4096).alignedSlice(4096).limit(size);
    }

    private static byte[] contentOf(ByteBuffer filled) {
        byte[] out = new byte[filled.position()];
        filled.flip().get(out);
        return out;
    }

    private FileChannelBlockFile openDirect(Path path) throws IOException {
        FileChannelBlockFile file = FileChannelBlockFile.open(path, false, true);
        if (!file.isDirect()) {
            file.close();
        }
        assumeTrue(file.isDirect(), "the temp directory's file system refuses O_DIRECT");
        assumeTrue(Files.getFileStore(path).getBlockSize() == 4096, "tests assume 4 KiB blocks");
        return file;
    }

    private static byte[] readAll(BlockFile file) throws IOException {
        ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(file.size()));
        file.read(all, 0);
        return all.array();
    }

    private Path file(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    /** Allocated size from st_blocks, which Java does not expose; skips the test without stat(1). */
    private static long allocatedBytes(Path path) throws IOException {
        try {
            Process stat = new ProcessBuilder("stat", "-c", "%b %B", path.toString()).start();
            String[] out = new String(stat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)
                    .trim()
                    .split(" ");
            assumeTrue(stat.waitFor() == 0, "stat(1) failed");
            return Long.parseLong(out[0]) * Long.parseLong(out[1]);
        } catch (IOException e) {
            assumeTrue(false, "needs stat(1) to see allocated blocks: " + e.getMessage());
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] randomBytes(int length, long seed) {
        byte[] data = new byte[length];
        new Random(seed).nextBytes(data);
        return data;
    }
}
