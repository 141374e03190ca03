package dev.blockpull.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * A {@link BlockFile} wrapper for tests that injects faults, holds I/O at a gate and journals
 * writes, like QEMU's blkdebug driver. It lives in main code so that tests of every floor and
 * the service's test profiles can wrap real files with it.
 *
 * <p>Rules ({@link FaultRule}) can be set and removed at any time from any thread and combine:
 * the first rule that objects to an operation fails it, and a failed operation never reaches
 * the wrapped file. Every read, write and force passes the {@link #gate()} first; truncate,
 * size and close do not. Counting: the N-th write is the N-th write call that got through the
 * gate, whether or not it then failed.
 */
public final class FaultInjectingBlockFile implements BlockFile {

    private final BlockFile delegate;
    private final IoGate gate = new IoGate();
    private final List<FaultRule> rules = new CopyOnWriteArrayList<>();
    private volatile @Nullable WriteJournal journal;

    /** Write calls that passed the gate, failed or not; rules count writes with it. Guarded by this. */
    private long writeAttempts;
    /** Bytes of writes no rule refused; the ENOSPC rule measures with it. Guarded by this. */
    private long bytesAccepted;

    private final IoCounters counters = new IoCounters();

    public FaultInjectingBlockFile(BlockFile delegate) {
        this.delegate = delegate;
    }

    /** Fails the {@code n}-th write from now (counting from 1) with EIO; later writes go through. */
    public synchronized FaultRule failWrite(int n) {
        return add(new FaultRule.FailWrite(writeAttempts, n, false));
    }

    /**
     * A crash point: the {@code n}-th write from now and every write, force and truncate after it
     * fail with EIO, as if the process had died there; reads still work, so a test can look at
     * what is left. Pair with the journal to check what a crash at that point leaves on disk.
     */
    public synchronized FaultRule crashAtWrite(int n) {
        return add(new FaultRule.FailWrite(writeAttempts, n, true));
    }

    /** EIO for every read overlapping {@code [offset, offset + length)}. */
    public FaultRule failReads(long offset, long length) {
        return add(new FaultRule.FailRange(offset, length, true, false));
    }

    /** EIO for every write overlapping {@code [offset, offset + length)}. */
    public FaultRule failWrites(long offset, long length) {
        return add(new FaultRule.FailRange(offset, length, false, true));
    }

    /** EIO for every read and write overlapping {@code [offset, offset + length)}. */
    public FaultRule failReadsAndWrites(long offset, long length) {
        return add(new FaultRule.FailRange(offset, length, true, true));
    }

    /** ENOSPC for any write that would take the bytes written from now on past {@code bytes}. */
    public synchronized FaultRule noSpaceAfter(long bytes) {
        return add(new FaultRule.NoSpace(bytesAccepted, bytes));
    }

    public void removeRule(FaultRule rule) {
        rules.remove(rule);
    }

    public void clearRules() {
        rules.clear();
    }

    public List<FaultRule> rules() {
        return List.copyOf(rules);
    }

    public IoGate gate() {
        return gate;
    }

    /** Starts a new, empty journal that records every write, force and truncate from now on. */
    public WriteJournal startJournal() {
        WriteJournal started = new WriteJournal();
        journal = started;
        return started;
    }

    public void stopJournal() {
        journal = null;
    }

    public @Nullable WriteJournal journal() {
        return journal;
    }

    /** Applies the first {@code count} entries of a journal to {@code target}, in order. */
    public static void replay(List<JournalEntry> entries, int count, BlockFile target) throws IOException {
        for (JournalEntry entry : entries.subList(0, count)) {
            entry.applyTo(target);
        }
    }

    /** Reads, writes, forces and bytes that reached the wrapped file. */
    public IoCounters counters() {
        return counters;
    }

    public BlockFile delegate() {
        return delegate;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        return read(dst, position, ReadHint.CACHED);
    }

    @Override
    public int read(ByteBuffer dst, long position, ReadHint hint) throws IOException {
        gate.pass();
        for (FaultRule rule : rules) {
            throwIfSet(rule.onRead(position, dst.remaining()));
        }
        int n = delegate.read(dst, position, hint);
        counters.read(hint);
        return n;
    }

    @Override
    public void write(ByteBuffer src, long position) throws IOException {
        gate.pass();
        int length = src.remaining();
        synchronized (this) {
            long writeNo = ++writeAttempts;
            for (FaultRule rule : rules) {
                throwIfSet(rule.onWrite(writeNo, bytesAccepted, position, length));
            }
            bytesAccepted += length;
        }
        WriteJournal recording = journal;
        byte[] data = recording == null ? null : copyOf(src);
        delegate.write(src, position);
        counters.wrote(length);
        if (recording != null && data != null) {
            recording.add(new JournalEntry.Write(position, data));
        }
    }

    @Override
    public void force(boolean metadata) throws IOException {
        gate.pass();
        checkNotCrashed();
        delegate.force(metadata);
        counters.forced();
        record(new JournalEntry.Force());
    }

    @Override
    public void truncate(long size) throws IOException {
        checkNotCrashed();
        delegate.truncate(size);
        record(new JournalEntry.Truncate(size));
    }

    @Override
    public long size() throws IOException {
        return delegate.size();
    }

    @Override
    public boolean isReadOnly() {
        return delegate.isReadOnly();
    }

    @Override
    public Path path() {
        return delegate.path();
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }

    @Override
    public String toString() {
        return "FaultInjectingBlockFile[" + delegate + ", rules=" + rules + "]";
    }

    private FaultRule add(FaultRule rule) {
        rules.add(rule);
        return rule;
    }

    private synchronized void checkNotCrashed() throws IOException {
        for (FaultRule rule : rules) {
            throwIfSet(rule.onForce(writeAttempts));
        }
    }

    private void record(JournalEntry entry) {
        WriteJournal recording = journal;
        if (recording != null) {
            recording.add(entry);
        }
    }

    private static byte[] copyOf(ByteBuffer src) {
        byte[] data = new byte[src.remaining()];
        src.duplicate().get(data);
        return data;
    }

    private static void throwIfSet(@Nullable IOException e) throws IOException {
        if (e != null) {
            throw e;
        }
    }
}
