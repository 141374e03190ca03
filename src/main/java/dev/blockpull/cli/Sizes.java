package dev.blockpull.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes as people write them, in binary multiples as qemu-img and virsh read them. */
final class Sizes {

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgtp]?)(?:i?b)?(?:/s)?");
    private static final String UNITS = "kmgtp";

    private Sizes() {}

    /** {@code 1048576}, {@code 512k}, {@code 50M}, {@code 1.5G}, {@code 2GiB}, {@code 50MB/s}: bytes. */
    static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size: write e.g. 1048576, 512K, 50M or 2G");
        }
        int power = m.group(2).isEmpty() ? 0 : UNITS.indexOf(m.group(2)) + 1;
        double bytes = Double.parseDouble(m.group(1)) * Math.pow(1024, power);
        if (bytes >= Long.MAX_VALUE) {
            throw new IllegalArgumentException("'" + text + "' is too large");
        }
        return Math.round(bytes);
    }

    /** {@code 12.3 MiB}: one decimal, the largest binary unit that keeps the number at least 1. */
    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < UNITS.length() - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %siB", value, Character.toUpperCase(UNITS.charAt(unit)));
    }
}
