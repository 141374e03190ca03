package dev.blockpull.graph;

import java.util.concurrent.atomic.LongAdder;

/**
 * Bytes a format node read from and wrote to its image, and the image operations that failed:
 * reads of what the image holds (what falls through to the backing node counts there), writes
 * and write-zeroes (guest writes and copy-on-read copies). A failed flush counts as a write
 * error. Monotonic while the node is open; read at scrape time.
 */
public final class NodeIoCounters {

    private final LongAdder readBytes = new LongAdder();
    private final LongAdder writtenBytes = new LongAdder();
    private final LongAdder readErrors = new LongAdder();
    private final LongAdder writeErrors = new LongAdder();

    public long readBytes() {
        return readBytes.sum();
    }

    public long writtenBytes() {
        return writtenBytes.sum();
    }

    public long readErrors() {
        return readErrors.sum();
    }

    public long writeErrors() {
        return writeErrors.sum();
    }

    void read(long bytes) {
        readBytes.add(bytes);
    }

    void wrote(long bytes) {
        writtenBytes.add(bytes);
    }

    void readFailed() {
        readErrors.increment();
    }

    void writeFailed() {
        writeErrors.increment();
    }

    @Override
    public String toString() {
        return "NodeIoCounters[read=" + readBytes() + ", written=" + writtenBytes() + ", readErrors=" + readErrors()
                + ", writeErrors=" + writeErrors() + "]";
    }
}
