package dev.blockpull.io;

import java.util.ArrayList;
import java.util.List;

/**
 * The writes, forces and truncates a {@link FaultInjectingBlockFile} completed, in completion
 * order. Concurrent overlapping writes have no defined order on disk either, so completion order
 * is as good as any; sequential callers get exactly their order.
 */
public final class WriteJournal {

    private final List<JournalEntry> entries = new ArrayList<>();

    /** A snapshot of the entries so far. */
    public synchronized List<JournalEntry> entries() {
        return List.copyOf(entries);
    }

    public synchronized int size() {
        return entries.size();
    }

    public synchronized void clear() {
        entries.clear();
    }

    synchronized void add(JournalEntry entry) {
        entries.add(entry);
    }
}
