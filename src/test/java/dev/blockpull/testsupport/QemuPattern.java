package dev.blockpull.testsupport;

import java.util.Arrays;
import java.util.Locale;

/**
 * qemu-io's {@code -P} semantics on the Java side, and the qemu-io command strings that go with
 * them. {@code write -P 0xNN off len} fills every byte of the range with {@code NN} (a memset, no
 * offset-dependent sequence); {@code read -P 0xNN off len} checks that every byte is {@code NN};
 * {@code write} without {@code -P} writes {@code 0xcd}; {@code write -z} makes the range read as
 * zeros.
 */
public final class QemuPattern {

    /** What qemu-io's {@code write} writes without {@code -P}. */
    public static final int DEFAULT_WRITE_PATTERN = 0xcd;

    private QemuPattern() {}

    /** {@code length} bytes of {@code pattern}. */
    public static byte[] bytes(int pattern, int length) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) pattern);
        return b;
    }

    /** What {@code write -P pattern offset length} does to a guest view held in memory. */
    public static void fill(byte[] guest, long offset, long length, int pattern) {
        checkRange(guest, offset, length);
        Arrays.fill(guest, (int) offset, (int) (offset + length), (byte) pattern);
    }

    /** What {@code write -z offset length} does to a guest view held in memory. */
    public static void zero(byte[] guest, long offset, long length) {
        fill(guest, offset, length, 0);
    }

    /** {@code "0x1f"}: qemu-io's pattern argument. */
    public static String hex(int pattern) {
        checkPattern(pattern);
        return String.format(Locale.ROOT, "0x%02x", pattern & 0xff);
    }

    /** {@code write -P 0xNN OFFSET LENGTH}. */
    public static String write(long offset, long length, int pattern) {
        return "write -P " + hex(pattern) + " " + offset + " " + length;
    }

    /** {@code write -c -P 0xNN OFFSET LENGTH}: a compressed write (whole, unallocated clusters only). */
    public static String writeCompressed(long offset, long length, int pattern) {
        return "write -c -P " + hex(pattern) + " " + offset + " " + length;
    }

    /** {@code write -z OFFSET LENGTH}: zero clusters in qcow2 v3, zero data in v2 overlays. */
    public static String zero(long offset, long length) {
        return "write -z " + offset + " " + length;
    }

    /** {@code write -z -u OFFSET LENGTH}: zeros that may unmap (free) the data clusters. */
    public static String zeroUnmap(long offset, long length) {
        return "write -z -u " + offset + " " + length;
    }

    /** {@code read -P 0xNN OFFSET LENGTH}: qemu-io verifies the bytes and fails on a mismatch. */
    public static String read(long offset, long length, int pattern) {
        return "read -P " + hex(pattern) + " " + offset + " " + length;
    }

    private static void checkPattern(int pattern) {
        if (pattern < 0 || pattern > 0xff) {
            throw new IllegalArgumentException("a qemu-io pattern is one byte, 0x00..0xff: " + pattern);
        }
    }

    private static void checkRange(byte[] guest, long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > guest.length) {
            throw new IllegalArgumentException(
                    "range " + offset + "+" + length + " outside " + guest.length + " bytes");
        }
    }
}
