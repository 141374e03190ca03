package dev.blockpull.format;

import dev.blockpull.io.ReadHint;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One opened image file: a single layer of a chain. Reads see this layer only (unallocated ranges
 * read as zeros); what lies below is the caller's business, except for copy-on-write of partial
 * clusters, for which a {@link BackingReader} is attached. Implementations are thread-safe: data
 * I/O runs in parallel, metadata changes are serialised inside the image.
 */
public interface Image extends AutoCloseable {

    ImageFormat format();

    Path path();

    /** Guest size in bytes. */
    long virtualSize();

    /** Allocation granularity: the cluster size for qcow2, 512 for raw. */
    int clusterSize();

    boolean isReadOnly();

    /** The backing file named in this image's header. */
    Optional<BackingReference> backing();

    /** Format-specific facts for {@code qemu-img info}-like views. */
    ImageDetails details();

    /**
     * Allocation of {@code [offset, offset + length)} clipped to the virtual size, as adjacent
     * extents that cover the range exactly and are merged where {@link Extent#continuedBy} allows.
     */
    List<Extent> blockStatus(long offset, long length);

    /**
     * The first run of {@link #blockStatus}: whether this layer holds the byte at {@code offset}
     * and for how many bytes (at most {@code length}) the same holds. Formats answer it without
     * building the extent list, stopping at the first change, so a long run costs one walk.
     */
    default AllocationRun allocationRun(long offset, long length) {
        return AllocationRun.first(blockStatus(offset, length));
    }

    /** Reads this layer's content; unallocated ranges and ranges past the end read as zeros. */
    default void read(long offset, ByteBuffer dst) {
        read(offset, dst, ReadHint.CACHED);
    }

    /** {@link #read(long, ByteBuffer)} with a hint for the storage, such as a copy's read-once data. */
    void read(long offset, ByteBuffer dst, ReadHint hint);

    /** Writes guest data; partial clusters that were unallocated are completed from the backing. */
    void write(long offset, ByteBuffer src);

    /**
     * Makes the range read as zeros. qcow2 v3 stores zero clusters (freeing data clusters when
     * {@code mayUnmap}); partial clusters are written as data.
     */
    void writeZeroes(long offset, long length, boolean mayUnmap);

    /** Makes every acknowledged write durable. */
    void flush();

    /**
     * Write-behind: pushes the data written so far to stable storage without touching metadata
     * or holding the metadata lock (an fdatasync beside running writes), so that a later
     * {@link #flush} has little left to wait for. It orders nothing and promises nothing; only
     * {@link #flush} does. Raw images flush.
     */
    default void writeBack() {
        flush();
    }

    /** The guest content below this image, used for copy-on-write; {@code null} means zeros. */
    void attachBacking(@Nullable BackingReader backing);

    /**
     * Rewrites the backing file name and format in the header (crash-safely, after a flush), or
     * removes the backing reference when {@code backing} is {@code null}.
     */
    void changeBackingFile(@Nullable BackingReference backing);

    /** Flushes, clears the dirty state the engine may have set, and releases the file. */
    @Override
    void close();
}
