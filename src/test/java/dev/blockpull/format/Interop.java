package dev.blockpull.format;

import dev.blockpull.io.DataRoot;
import dev.blockpull.testsupport.MapEntry;
import dev.blockpull.testsupport.ProcessResult;
import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the interop tests share: opening chains with the service's own backing-file policy
 * ({@link DataRoot}), reading a whole guest view through the engine, and {@code qemu-img map}
 * rows from both sides in one normalised form ({@link Run}) so that they can be compared.
 */
final class Interop {

    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Reads are done in pieces of this odd size, so that they start and end inside clusters. */
    private static final int READ_CHUNK = 777_777;

    private Interop() {}

    // ------------------------------------------------------------------ opening

    /** The production resolver: names relative to the image's directory, confined to {@code root}. */
    static BackingResolver resolverFor(Path root) {
        DataRoot dataRoot = new DataRoot(root);
        return (image, ref) -> dataRoot.resolveBacking(image, ref.fileName());
    }

    /** {@code top} and its whole chain, resolved inside the top's directory. */
    static ImageChain openChain(Path top, boolean readOnly) {
        Path dir = top.toAbsolutePath().getParent();
        return ImageChain.open(top, ImageOpener.probe(top), resolverFor(dir), 16, readOnly);
    }

    // ------------------------------------------------------------------ content

    /** The guest view of the chain, read in odd-sized pieces. */
    static byte[] read(ImageChain chain) {
        long size = chain.top().virtualSize();
        byte[] out = new byte[Math.toIntExact(size)];
        for (int pos = 0; pos < out.length; pos += READ_CHUNK) {
            chain.read(
                    pos,
                    ByteBuffer.wrap(out, pos, Math.min(READ_CHUNK, out.length - pos))
                            .slice());
        }
        return out;
    }

    /** This layer's own content (unallocated reads as zeros), read in odd-sized pieces. */
    static byte[] read(Image image) {
        byte[] out = new byte[Math.toIntExact(image.virtualSize())];
        for (int pos = 0; pos < out.length; pos += READ_CHUNK) {
            image.read(
                    pos,
                    ByteBuffer.wrap(out, pos, Math.min(READ_CHUNK, out.length - pos))
                            .slice());
        }
        return out;
    }

    /** Opens the chain of {@code top} read-only and reads its guest view. */
    static byte[] readChain(Path top) {
        try (ImageChain chain = openChain(top, true)) {
            return read(chain);
        }
    }

    /** Fails with the first differing offset and a hex excerpt of both sides. */
    static void assertSameBytes(byte[] actual, byte[] expected, String what) {
        int first = Arrays.mismatch(actual, expected);
        if (first < 0) {
            return;
        }
        StringBuilder msg = new StringBuilder(what + " differs");
        if (actual.length != expected.length) {
            msg.append("; length ").append(actual.length).append(" instead of ").append(expected.length);
        }
        if (first < Math.min(actual.length, expected.length)) {
            int end = first;
            while (end < Math.min(actual.length, expected.length) && actual[end] != expected[end]) {
                end++;
            }
            msg.append(String.format(
                    "; first difference at offset %d (0x%x), %d bytes differ; expected %s but was %s",
                    first, first, end - first, hex(expected, first), hex(actual, first)));
        }
        throw new AssertionError(msg.toString());
    }

    private static String hex(byte[] b, int from) {
        int to = Math.min(b.length, from + 16);
        return "[" + HexFormat.ofDelimiter(" ").formatHex(b, from, to) + (to < b.length ? " ..." : "") + "]";
    }

    /** Writes {@code bytes} as a raw file (e.g. the expected content, for {@code qemu-img compare}). */
    static Path writeRaw(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first {@code length} bytes of a file. */
    static byte[] head(Path file, int length) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(length);
            while (buf.hasRemaining() && ch.read(buf, buf.position()) >= 0) {
                // keep reading
            }
            return buf.array();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] readAll(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ map

    /**
     * One row of {@code qemu-img map --output=json}, as QEMU prints it; {@code offset} is null
     * where QEMU prints none.
     */
    record Run(
            long start,
            long length,
            int depth,
            boolean present,
            boolean zero,
            boolean data,
            @Nullable Long offset) {

        long end() {
            return start + length;
        }

        /** QEMU's {@code entry_mergeable} (qemu-img.c): same depth and flags, and contiguous offsets. */
        boolean continuedBy(Run next) {
            return end() == next.start
                    && depth == next.depth
                    && present == next.present
                    && zero == next.zero
                    && data == next.data
                    && (offset == null) == (next.offset == null)
                    && (offset == null || offset + length == next.offset);
        }

        Run withoutOffset() {
            return new Run(start, length, depth, present, zero, data, null);
        }

        @Override
        public String toString() {
            return String.format(
                    "{start %d (0x%x), length %d, depth %d,%s%s%s%s}",
                    start,
                    start,
                    length,
                    depth,
                    present ? " present" : "",
                    zero ? " zero" : "",
                    data ? " data" : "",
                    offset == null ? "" : String.format(" offset 0x%x", offset));
        }
    }

    /** Merges adjacent rows exactly as {@code qemu-img map} does before printing. */
    static List<Run> merge(List<Run> runs) {
        List<Run> out = new ArrayList<>();
        for (Run r : runs) {
            if (!out.isEmpty() && out.get(out.size() - 1).continuedBy(r)) {
                Run p = out.remove(out.size() - 1);
                out.add(new Run(p.start, p.length + r.length, p.depth, p.present, p.zero, p.data, p.offset));
            } else {
                out.add(r);
            }
        }
        return List.copyOf(out);
    }

    /** {@code qemu-img map --output=json} of {@code image} and its chain. */
    static List<Run> qemuMap(QemuTools qemu, Path image) {
        return merge(qemu.map(image).stream().map(Interop::run).toList());
    }

    /**
     * {@code qemu-img map} of one qcow2 layer on its own: opened with {@code "backing": null},
     * so unallocated ranges read as zeros and nothing below is consulted.
     */
    static List<Run> qemuLayerMap(QemuTools qemu, Path qcow2) {
        String spec = "json:{\"driver\":\"qcow2\",\"backing\":null,\"file\":{\"driver\":\"file\",\"filename\":\""
                + qcow2.toAbsolutePath() + "\"}}";
        ProcessResult r = qemu.qemuImgOk("map", "--output=json", spec);
        List<Run> runs = new ArrayList<>();
        for (JsonNode e : JSON.readTree(r.stdout())) {
            JsonNode offset = e.get("offset");
            runs.add(new Run(
                    e.path("start").asLong(),
                    e.path("length").asLong(),
                    e.path("depth").asInt(),
                    e.path("present").asBoolean(false),
                    e.path("zero").asBoolean(false),
                    e.path("data").asBoolean(false),
                    offset == null || offset.isNull() ? null : offset.asLong()));
        }
        return merge(runs);
    }

    private static Run run(MapEntry e) {
        return new Run(e.start(), e.length(), e.depth(), e.present(), e.zero(), e.data(), e.offset());
    }

    /** Our {@link ImageChain#map} of the whole top, in QEMU's words. */
    static List<Run> engineMap(ImageChain chain) {
        List<Run> runs = new ArrayList<>();
        for (ChainExtent e : chain.map(0, chain.top().virtualSize())) {
            runs.add(run(e.offset(), e.length(), e.depth(), e.kind(), e.hostOffset()));
        }
        return merge(runs);
    }

    /** Our {@link Image#blockStatus} of one layer, in the words of {@code qemu-img map} without backing. */
    static List<Run> engineLayerMap(Image image) {
        List<Run> runs = new ArrayList<>();
        for (Extent e : image.blockStatus(0, image.virtualSize())) {
            runs.add(run(e.offset(), e.length(), 0, e.kind(), e.hostOffset()));
        }
        return merge(runs);
    }

    private static Run run(long start, long length, int depth, ExtentKind kind, long hostOffset) {
        Long offset = hostOffset == Extent.NO_HOST_OFFSET ? null : hostOffset;
        return switch (kind) {
            case DATA -> new Run(start, length, depth, true, false, true, offset);
            case ZERO -> new Run(start, length, depth, true, true, false, offset);
            case UNALLOCATED -> new Run(start, length, depth, false, true, false, offset);
        };
    }

    /** Drops the host offset of runs that are not allocated (see the extended-L2 tests for why). */
    static List<Run> withoutOffsetsOfAbsentRuns(List<Run> runs) {
        return merge(runs.stream().map(r -> r.present() ? r : r.withoutOffset()).toList());
    }

    /**
     * Our rows equal QEMU's; on a mismatch the message names the first differing row and lists
     * both maps around it.
     */
    static void assertSameMap(List<Run> engine, List<Run> qemu, String what) {
        int i = 0;
        while (i < Math.min(engine.size(), qemu.size()) && engine.get(i).equals(qemu.get(i))) {
            i++;
        }
        if (i == engine.size() && i == qemu.size()) {
            return;
        }
        int from = Math.max(0, i - 3);
        throw new AssertionError(what + ": the engine's map differs from qemu-img map at row " + i
                + " (rows " + engine.size() + " vs " + qemu.size() + ")"
                + "\nengine, from row " + from + ":"
                + describe(engine.subList(Math.min(from, engine.size()), Math.min(engine.size(), i + 6)))
                + "\nqemu-img map, from row " + from + ":"
                + describe(qemu.subList(Math.min(from, qemu.size()), Math.min(qemu.size(), i + 6))));
    }

    static String describe(List<Run> runs) {
        StringBuilder b = new StringBuilder();
        for (Run r : runs) {
            b.append("\n  ").append(r);
        }
        return b.toString();
    }
}
