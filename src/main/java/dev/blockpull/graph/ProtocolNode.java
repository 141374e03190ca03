package dev.blockpull.graph;

import dev.blockpull.format.Extent;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.ReadHint;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * A {@code file} protocol node: the storage under a format node. The format engine does the file
 * I/O itself, so this node describes the file (name, whether the storage is read-only) and
 * takes no requests of its own.
 */
public final class ProtocolNode extends BlockNode {

    private final Path path;
    private final boolean storageReadOnly;
    private final long length;

    ProtocolNode(String name, Path path, boolean storageReadOnly, long length, DrainCoordinator drains) {
        super(name, Driver.FILE, drains, false);
        this.path = path;
        this.storageReadOnly = storageReadOnly;
        this.length = length;
    }

    @Override
    public Path path() {
        return path;
    }

    /** {@code readOnly} on the file object: the image above can never be reopened read-write. */
    public boolean isStorageReadOnly() {
        return storageReadOnly;
    }

    /** Read-only storage, or opened read-only under a read-only image (QEMU shows it so too). */
    @Override
    public boolean isReadOnly() {
        if (storageReadOnly) {
            return true;
        }
        List<Link> parents = parentLinks();
        return !parents.isEmpty() && parents.stream().allMatch(l -> l.parent().isReadOnly());
    }

    /** The file's size when it was opened. */
    @Override
    public long length() {
        return length;
    }

    @Override
    public List<Link> children() {
        return List.of();
    }

    @Override
    protected void doRead(long offset, ByteBuffer dst, ReadHint hint) {
        throw unsupported();
    }

    @Override
    protected void doWrite(long offset, ByteBuffer src) {
        throw unsupported();
    }

    @Override
    protected void doWriteZeroes(long offset, long length, boolean mayUnmap) {
        throw unsupported();
    }

    @Override
    protected void doFlush() {
        // the format node above flushes the file
    }

    @Override
    protected List<Extent> doBlockStatus(long offset, long length) {
        throw unsupported();
    }

    private BlockException unsupported() {
        return new BlockException(
                BlockErrorKind.UNSUPPORTED,
                "Node '" + name() + "' is a protocol node; do I/O through the format node above it");
    }
}
