package dev.blockpull.format;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import java.util.Arrays;
import java.util.Locale;

/** The image formats the engine reads and writes, by their QEMU driver names. */
public enum ImageFormat {
    QCOW2("qcow2"),
    RAW("raw");

    private final String id;

    ImageFormat(String id) {
        this.id = id;
    }

    /** QEMU's driver name: {@code qcow2} or {@code raw}. */
    public String id() {
        return id;
    }

    public static ImageFormat parse(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return Arrays.stream(values())
                .filter(f -> f.id.equals(n))
                .findFirst()
                .orElseThrow(() -> new BlockException(
                        BlockErrorKind.INVALID_ARGUMENT,
                        "Unknown or unsupported image format '" + name + "'; supported: qcow2, raw"));
    }

    @Override
    public String toString() {
        return id;
    }
}
