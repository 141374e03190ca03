package dev.blockpull.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Assertions on image files with qemu-img as the judge (qcow2-notes §10.3). Each one gets the
 * tools through {@link QemuTools#require()}, so a test using them is skipped loudly when QEMU
 * is missing, and fails under {@code CI=true}. Failure messages carry the tool's own output.
 */
public final class AssertImages {

    private AssertImages() {}

    /** {@code qemu-img check}: exit 0, no corruptions, no leaks, no check errors. */
    public static CheckResult assertCheckClean(Path image) {
        CheckResult r = QemuTools.require().check(image);
        assertThat(r.isClean())
                .as("qemu-img check of %s is clean:\n%s", image, r.describe())
                .isTrue();
        return r;
    }

    /** {@code qemu-img check}: exit 0 or 3, no corruption, leaks allowed: what a crash may leave. */
    public static CheckResult assertCheckCleanOrLeaksOnly(Path image) {
        CheckResult r = QemuTools.require().check(image);
        assertThat(r.isCleanOrLeaksOnly())
                .as("qemu-img check of %s finds no corruption:\n%s", image, r.describe())
                .isTrue();
        return r;
    }

    /** {@code qemu-img compare} (non-strict) exits 0: same guest content. */
    public static void assertSameContent(Path a, Path b) {
        ProcessResult r = QemuTools.require().compare(a, b);
        assertThat(r.exitCode())
                .as("qemu-img compare says %s and %s are identical:\n%s", a, b, r.describe())
                .isZero();
    }

    /** {@code qemu-img compare} (non-strict) exits 1: the guest contents differ. */
    public static void assertDifferentContent(Path a, Path b) {
        ProcessResult r = QemuTools.require().compare(a, b);
        assertThat(r.exitCode())
                .as("qemu-img compare says %s and %s differ:\n%s", a, b, r.describe())
                .isEqualTo(1);
    }

    /**
     * The guest view of {@code image} (with its backing chain, as {@code qemu-img convert -O raw}
     * reads it) equals {@code expected} byte for byte, size included. A mismatch names the first
     * differing offset and the length of the differing run.
     */
    public static void assertContent(Path image, byte[] expected) {
        byte[] actual = guestContent(image);
        int first = Arrays.mismatch(actual, expected);
        if (first < 0) {
            return;
        }
        StringBuilder msg = new StringBuilder("guest content of " + image + " differs from the expected content");
        if (actual.length != expected.length) {
            msg.append("; size ").append(actual.length).append(" instead of ").append(expected.length);
        }
        if (first < Math.min(actual.length, expected.length)) {
            int end = first;
            while (end < Math.min(actual.length, expected.length) && actual[end] != expected[end]) {
                end++;
            }
            msg.append("; first difference at offset ")
                    .append(first)
                    .append(String.format(" (0x%x)", first))
                    .append(": ")
                    .append(end - first)
                    .append(" bytes differ, expected ")
                    .append(hex(expected, first))
                    .append(" but was ")
                    .append(hex(actual, first));
        }
        throw new AssertionError(msg.toString());
    }

    /** Every byte of {@code [offset, offset + length)} of the guest view is {@code pattern} (qemu-io read -P). */
    public static void assertReadsPattern(Path image, long offset, long length, int pattern) {
        assertThat(QemuTools.require().readsPattern(image, offset, length, pattern))
                .as("%s reads %s over [%d, %d)", image, QemuPattern.hex(pattern), offset, offset + length)
                .isTrue();
    }

    /**
     * {@code qemu-img info}: the backing file name as stored and its format; {@code null} name
     * means "no backing file", {@code null} format means "no format recorded".
     */
    public static void assertBacking(Path image, @Nullable String backingName, @Nullable String backingFormat) {
        JsonNode info = QemuTools.require().info(image);
        assertThat(text(info, "backing-filename"))
                .as("backing file of %s:\n%s", image, info)
                .isEqualTo(backingName);
        if (backingName != null) {
            assertThat(text(info, "backing-filename-format"))
                    .as("backing format of %s:\n%s", image, info)
                    .isEqualTo(backingFormat);
        }
    }

    /** {@code qemu-img info --backing-chain} lists {@code layers} images (the image itself included). */
    public static void assertChainLength(Path image, int layers) {
        JsonNode chain = QemuTools.require().infoChain(image);
        assertThat(chain.size())
                .as("layers in the chain of %s:\n%s", image, chain)
                .isEqualTo(layers);
    }

    /** {@code qemu-img info}: the dirty bit is clear and the image is not marked corrupt. */
    public static void assertNotDirtyNorCorrupt(Path image) {
        JsonNode info = QemuTools.require().info(image);
        assertThat(info.path("dirty-flag").asBoolean(false))
                .as("dirty flag of %s:\n%s", image, info)
                .isFalse();
        assertThat(info.path("format-specific").path("data").path("corrupt").asBoolean(false))
                .as("corrupt bit of %s:\n%s", image, info)
                .isFalse();
    }

    /** The guest view of {@code image}, read through qemu-img convert into a temporary raw file. */
    public static byte[] guestContent(Path image) {
        Path dir = image.toAbsolutePath().getParent();
        Path raw;
        try {
            raw = Files.createTempFile(dir, image.getFileName() + ".", ".content.raw");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            QemuTools.require().convertToRaw(image, raw);
            return Files.readAllBytes(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                Files.deleteIfExists(raw);
            } catch (IOException ignored) {
                // a leftover in a temp dir is harmless
            }
        }
    }

    private static @Nullable String text(JsonNode node, String key) {
        JsonNode n = node.get(key);
        return n == null || n.isNull() ? null : n.asString();
    }

    private static String hex(byte[] bytes, int from) {
        int to = Math.min(bytes.length, from + 16);
        return from >= bytes.length
                ? "<end>"
                : "[" + HexFormat.ofDelimiter(" ").formatHex(bytes, from, to) + (to < bytes.length ? " ..." : "") + "]";
    }
}
