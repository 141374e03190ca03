package dev.blockpull.bench;

import dev.blockpull.format.BackingResolver;
import dev.blockpull.format.ChainExtent;
import dev.blockpull.format.CreateOptions;
import dev.blockpull.format.ExtentKind;
import dev.blockpull.format.Image;
import dev.blockpull.format.ImageChain;
import dev.blockpull.format.ImageCreator;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The engine side of bench/image-engine.sh. Not part of the product: compiled by the script
 * against the built application's classes.
 *
 * <pre>
 * EngineBench read-chain   TOP OUT.raw [--warmup N] [--runs N] [--sync] [--fsync] [--no-sparse | --use-map]
 * EngineBench write-random IMAGE BYTES BLOCKSIZE SEED|sequential [--warmup N] [--runs N] [--sync]
 * EngineBench offsets      VIRTUAL_SIZE BYTES BLOCKSIZE SEED|sequential
 * </pre>
 *
 * Every measured run prints one line
 * {@code RESULT mode=... run=N bytes=... seconds=... mib_per_s=...}; warm-up runs print
 * {@code WARMUP} lines. Times are taken inside the JVM (JVM start-up excluded) from before the
 * image is opened to after it is closed. {@code --sync} runs sync(1) before each run, untimed,
 * so that the write-back of an earlier run's dirty pages does not land in the next one.
 */
public final class EngineBench {

    static final int COPY_BUFFER = 2 * 1024 * 1024;
    static final int MAX_CHAIN_DEPTH = 16;
    static final int IN_FLIGHT = Integer.getInteger("bench.inFlight", 4);

    private static final PrintStream OUT = System.out;

    private EngineBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            usage("no mode given");
        }
        List<String> positional = new ArrayList<>();
        int warmup = 0;
        int runs = 1;
        boolean fsync = false;
        boolean sparse = true;
        boolean useMap = false;
        boolean sync = false;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> warmup = Integer.parseInt(value(args, ++i));
                case "--runs" -> runs = Integer.parseInt(value(args, ++i));
                case "--fsync" -> fsync = true;
                case "--no-sparse" -> sparse = false;
                case "--use-map" -> useMap = true;
                case "--sync" -> sync = true;
                default -> {
                    if (args[i].startsWith("--")) {
                        usage("unknown option " + args[i]);
                    }
                    positional.add(args[i]);
                }
            }
        }
        switch (args[0]) {
            case "read-chain" -> {
                need(positional, 2);
                Path top = Path.of(positional.get(0));
                Path out = Path.of(positional.get(1));
                for (int r = 1; r <= warmup + runs; r++) {
                    Files.deleteIfExists(out);
                    syncIf(sync);
                    long t0 = System.nanoTime();
                    long bytes = readChain(top, out, sparse, useMap, fsync);
                    report(useMap ? "read-chain-map" : "read-chain", r - warmup, bytes, System.nanoTime() - t0);
                }
            }
            case "write-random" -> {
                need(positional, 4);
                Path image = Path.of(positional.get(0));
                long bytes = parseSize(positional.get(1));
                int blockSize = (int) parseSize(positional.get(2));
                String seed = positional.get(3);
                writeRandomRuns(image, bytes, blockSize, seed, warmup, runs, sync);
            }
            case "offsets" -> {
                need(positional, 4);
                long[] offsets = offsets(
                        parseSize(positional.get(0)),
                        parseSize(positional.get(1)),
                        (int) parseSize(positional.get(2)),
                        positional.get(3));
                StringBuilder sb = new StringBuilder(offsets.length * 12);
                for (long o : offsets) {
                    sb.append(o).append('\n');
                }
                OUT.print(sb);
            }
            default -> usage("unknown mode " + args[0]);
        }
        OUT.flush();
    }

    // ------------------------------------------------------------------ read-chain

    /**
     * Copies the guest view of {@code top} and its chain into a raw file with 2 MiB sequential
     * reads into a direct buffer. Buffers that are all zeros are not written (the file keeps a
     * hole there), as {@code qemu-img convert} does by default; {@code sparse=false} writes them.
     * With {@code useMap}, the chain's block status decides instead, as convert's does: only
     * DATA extents are read and written, ZERO and UNALLOCATED ones stay holes.
     */
    static long readChain(Path top, Path out, boolean sparse, boolean useMap, boolean fsync) throws IOException {
        ImageFormat format = ImageOpener.probe(top);
        try (ImageChain chain = ImageChain.open(top, format, besideTheImage(), MAX_CHAIN_DEPTH, true);
                FileChannel dst = FileChannel.open(
                        out,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
            long size = chain.top().virtualSize();
            List<long[]> chunks = new ArrayList<>();
            if (useMap) {
                for (ChainExtent e : chain.map(0, size)) {
                    if (e.kind() == ExtentKind.DATA) {
                        addChunks(chunks, e.offset(), e.end());
                    }
                }
            } else {
                addChunks(chunks, 0, size);
            }
            copyInParallel(chain, dst, chunks, sparse && !useMap);
            if (dst.size() < size) {
                // A trailing hole: set the length, as convert does, by writing the last byte.
                dst.write(ByteBuffer.allocate(1), size - 1);
            }
            if (fsync) {
                dst.force(false);
            }
            return size;
        }
    }

    private static void addChunks(List<long[]> chunks, long start, long end) {
        for (long offset = start; offset < end; offset += COPY_BUFFER) {
            chunks.add(new long[] {offset, Math.min(COPY_BUFFER, end - offset)});
        }
    }

    /**
     * Several copies in flight, as qemu-img convert keeps 8 coroutines busy: each worker owns
     * one direct buffer and takes the next chunk from a shared cursor.
     */
    private static void copyInParallel(ImageChain chain, FileChannel dst, List<long[]> chunks, boolean sparse)
            throws IOException {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(IN_FLIGHT);
        try {
            List<java.util.concurrent.Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < IN_FLIGHT; w++) {
                workers.add(pool.submit(() -> {
                    ByteBuffer buffer = ByteBuffer.allocateDirect(COPY_BUFFER);
                    ByteBuffer zeros = ByteBuffer.allocateDirect(COPY_BUFFER);
                    for (int i = next.getAndIncrement(); i < chunks.size(); i = next.getAndIncrement()) {
                        long offset = chunks.get(i)[0];
                        int n = (int) chunks.get(i)[1];
                        buffer.clear().limit(n);
                        chain.read(offset, buffer);
                        buffer.position(0).limit(n);
                        if (sparse && buffer.mismatch(zeros.duplicate().limit(n)) == -1) {
                            continue;
                        }
                        while (buffer.hasRemaining()) {
                            dst.write(buffer, offset + buffer.position());
                        }
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : workers) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Backing names are resolved next to the image holding them: enough for a bench's temp dir. */
    static BackingResolver besideTheImage() {
        return (image, reference) ->
                image.toAbsolutePath().getParent().resolve(reference.fileName()).normalize();
    }

    // ------------------------------------------------------------------ write-random

    /**
     * Each run starts from the same fresh image: a copy of {@code image} as it was at start (the
     * copy is not timed), or, when {@code image} does not exist, a new qcow2 of {@code bytes}
     * made by ImageCreator. The last run's result stays at {@code image}.
     */
    static void writeRandomRuns(Path image, long bytes, int blockSize, String seed, int warmup, int runs, boolean sync)
            throws IOException {
        Path template = null;
        if (Files.exists(image)) {
            template = image.resolveSibling(image.getFileName() + ".template");
            Files.copy(image, template, StandardCopyOption.REPLACE_EXISTING);
        }
        try {
            for (int r = 1; r <= warmup + runs; r++) {
                if (template != null) {
                    Files.copy(template, image, StandardCopyOption.REPLACE_EXISTING);
                } else {
                    Files.deleteIfExists(image);
                    ImageCreator.create(image, CreateOptions.qcow2(bytes, null));
                }
                syncIf(sync);
                long t0 = System.nanoTime();
                long written = writeRandom(image, bytes, blockSize, seed);
                report("write-random", r - warmup, written, System.nanoTime() - t0);
            }
        } finally {
            if (template != null) {
                Files.deleteIfExists(template);
            }
        }
    }

    /**
     * {@code bytes / blockSize} block-aligned writes of {@code blockSize} bytes at the offsets of
     * {@link #offsets}, one at a time (queue depth 1), then a flush and close. Block {@code b} is
     * filled with the byte {@code b % 255 + 1}, as the qemu-io side writes it, so the two results
     * can be compared.
     */
    static long writeRandom(Path image, long bytes, int blockSize, String seed) {
        try (Image img = ImageOpener.open(image, ImageOpener.probe(image), false)) {
            long[] offsets = offsets(img.virtualSize(), bytes, blockSize, seed);
            ByteBuffer[] byPattern = null;
            if (255L * blockSize <= 64L * 1024 * 1024) {
                byPattern = new ByteBuffer[256];
                for (int p = 1; p <= 255; p++) {
                    byPattern[p] = filled(ByteBuffer.allocateDirect(blockSize), p);
                }
            }
            ByteBuffer scratch = byPattern == null ? ByteBuffer.allocateDirect(blockSize) : null;
            for (long offset : offsets) {
                int pattern = (int) ((offset / blockSize) % 255) + 1;
                ByteBuffer src = byPattern != null ? byPattern[pattern].duplicate() : filled(scratch, pattern);
                img.write(offset, src);
            }
            img.flush();
            return (long) offsets.length * blockSize;
        }
    }

    private static ByteBuffer filled(ByteBuffer b, int pattern) {
        b.clear();
        long word = 0x0101010101010101L * (pattern & 0xff);
        while (b.remaining() >= 8) {
            b.putLong(word);
        }
        while (b.hasRemaining()) {
            b.put((byte) pattern);
        }
        return b.flip();
    }

    /**
     * The first {@code bytes / blockSize} entries of a seeded shuffle of every block of the
     * image (so no block is written twice), or the blocks in order for {@code sequential}.
     */
    static long[] offsets(long virtualSize, long bytes, int blockSize, String seed) {
        if (blockSize <= 0 || bytes % blockSize != 0) {
            usage("bytes must be a multiple of the block size");
        }
        long blocks = virtualSize / blockSize;
        long count = bytes / blockSize;
        if (count > blocks) {
            usage(bytes + " bytes do not fit into " + virtualSize + " bytes without writing a block twice");
        }
        if (blocks > Integer.MAX_VALUE - 8) {
            usage("too many blocks: " + blocks);
        }
        long[] all = new long[(int) blocks];
        for (int i = 0; i < all.length; i++) {
            all[i] = (long) i * blockSize;
        }
        if (!seed.equals("sequential")) {
            SplittableRandom random = new SplittableRandom(Long.parseLong(seed));
            for (int i = 0; i < count; i++) {
                int j = i + random.nextInt(all.length - i);
                long t = all[i];
                all[i] = all[j];
                all[j] = t;
            }
        }
        return Arrays.copyOf(all, (int) count);
    }

    // ------------------------------------------------------------------ plumbing

    private static void syncIf(boolean sync) throws IOException {
        if (!sync) {
            return;
        }
        try {
            new ProcessBuilder("sync").inheritIO().start().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running sync", e);
        }
    }

    private static void report(String mode, int run, long bytes, long nanos) {
        double seconds = nanos / 1e9;
        double mibPerSecond = bytes / (1024.0 * 1024.0) / seconds;
        OUT.printf(
                Locale.ROOT,
                "%s mode=%s run=%d bytes=%d seconds=%.6f mib_per_s=%.1f%n",
                run <= 0 ? "WARMUP" : "RESULT",
                mode,
                run <= 0 ? run + 1 : run,
                bytes,
                seconds,
                mibPerSecond);
        OUT.flush();
    }

    /** {@code 1073741824}, {@code 64k}, {@code 1G}: binary suffixes as qemu-img takes them. */
    static long parseSize(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        char last = t.charAt(t.length() - 1);
        switch (last) {
            case 'k' -> unit = 1L << 10;
            case 'm' -> unit = 1L << 20;
            case 'g' -> unit = 1L << 30;
            case 't' -> unit = 1L << 40;
            default -> {}
        }
        return Long.parseLong(unit == 1 ? t : t.substring(0, t.length() - 1)) * unit;
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            usage("option " + args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private static void need(List<String> positional, int n) {
        if (positional.size() != n) {
            usage("expected " + n + " arguments, got " + positional);
        }
    }

    private static void usage(String problem) {
        System.err.println("EngineBench: " + problem + """

                usage:
                  EngineBench read-chain   TOP OUT.raw [--warmup N] [--runs N] [--sync] [--fsync] [--no-sparse | --use-map]
                  EngineBench write-random IMAGE BYTES BLOCKSIZE SEED|sequential [--warmup N] [--runs N] [--sync]
                  EngineBench offsets      VIRTUAL_SIZE BYTES BLOCKSIZE SEED|sequential""");
        System.exit(64);
    }
}
