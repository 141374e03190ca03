package dev.blockpull.io;

import java.util.concurrent.atomic.AtomicLong;

/** What a {@link FaultInjectingBlockFile} passed through to the wrapped file: completed operations only. */
public final class IoCounters {

    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong readsOnce = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong forces = new AtomicLong();
    private final AtomicLong bytesWritten = new AtomicLong();

    public long reads() {
        return reads.get();
    }

    /** Reads that came with {@link ReadHint#ONCE}. */
    public long readsOnce() {
        return readsOnce.get();
    }

    public long writes() {
        return writes.get();
    }

    public long forces() {
        return forces.get();
    }

    public long bytesWritten() {
        return bytesWritten.get();
    }

    void read(ReadHint hint) {
        reads.incrementAndGet();
        if (hint == ReadHint.ONCE) {
            readsOnce.incrementAndGet();
        }
    }

    void wrote(int length) {
        writes.incrementAndGet();
        bytesWritten.addAndGet(length);
    }

    void forced() {
        forces.incrementAndGet();
    }

    @Override
    public String toString() {
        return "IoCounters[reads=" + reads() + ", readsOnce=" + readsOnce() + ", writes=" + writes() + ", forces="
                + forces() + ", bytesWritten=" + bytesWritten() + "]";
    }
}
