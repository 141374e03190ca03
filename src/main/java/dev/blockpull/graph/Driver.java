package dev.blockpull.graph;

import dev.blockpull.format.ImageFormat;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/** Node drivers by their QEMU names, with the kind each one is. New filters (throttle) go here. */
public enum Driver {
    FILE("file", NodeKind.PROTOCOL, null),
    QCOW2("qcow2", NodeKind.FORMAT, ImageFormat.QCOW2),
    RAW("raw", NodeKind.FORMAT, ImageFormat.RAW),
    COPY_ON_READ("copy-on-read", NodeKind.FILTER, null),
    /** The fault-injection filter, QEMU's name for it (off unless the service enables it). */
    BLKDEBUG("blkdebug", NodeKind.FILTER, null);

    private final String id;
    private final NodeKind kind;
    private final @Nullable ImageFormat format;

    Driver(String id, NodeKind kind, @Nullable ImageFormat format) {
        this.id = id;
        this.kind = kind;
        this.format = format;
    }

    /** QEMU's driver name. */
    public String id() {
        return id;
    }

    public NodeKind kind() {
        return kind;
    }

    /** The image format of a format driver; null for the others. */
    public @Nullable ImageFormat format() {
        return format;
    }

    public static Driver of(ImageFormat format) {
        return format == ImageFormat.QCOW2 ? QCOW2 : RAW;
    }

    /** A format driver by name: what {@code POST /nodes} may open. */
    public static Driver parseFormat(String name) {
        return Arrays.stream(values())
                .filter(d -> d.kind == NodeKind.FORMAT && d.id.equals(name))
                .findFirst()
                .orElseThrow(() -> new BlockException(
                        BlockErrorKind.INVALID_ARGUMENT,
                        "Unknown driver '" + name + "'; nodes can be opened with driver qcow2 or raw"));
    }

    @Override
    public String toString() {
        return id;
    }
}
