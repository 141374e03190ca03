package dev.blockpull.job;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Dismissed jobs, kept readable with status {@code null}, their result and error, so a client that
 * polls never loses an outcome. Bounded by count (oldest dropped first) and by age since dismissal.
 * A new job with the same id replaces the record: QEMU frees an id on dismiss.
 */
public final class JobHistory {

    private final int maxSize;
    private final Duration maxAge;
    private final Clock clock;
    /** Insertion order = dismissal order, so the first entry is always the oldest. */
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

    public JobHistory(int maxSize, Duration maxAge, Clock clock) {
        if (maxSize < 1 || maxAge.isNegative() || maxAge.isZero()) {
            throw new IllegalArgumentException("history size and age must be positive");
        }
        this.maxSize = maxSize;
        this.maxAge = maxAge;
        this.clock = clock;
    }

    public void add(JobView finished) {
        add(finished, clock.instant());
    }

    /**
     * {@link #add(JobView)} of a job dismissed at {@code dismissedAt}, e.g. one recorded before a
     * restart: its age counts from then. Add such records oldest first.
     */
    public synchronized void add(JobView finished, Instant dismissedAt) {
        entries.remove(finished.id());
        entries.put(finished.id(), new Entry(finished, dismissedAt));
        expire();
        while (entries.size() > maxSize) {
            Iterator<Map.Entry<String, Entry>> oldest = entries.entrySet().iterator();
            oldest.next();
            oldest.remove();
        }
    }

    public synchronized Optional<JobView> get(String id) {
        expire();
        Entry e = entries.get(id);
        return e == null ? Optional.empty() : Optional.of(e.view());
    }

    /** Oldest dismissal first. */
    public synchronized List<JobView> list() {
        expire();
        List<JobView> views = new ArrayList<>(entries.size());
        for (Entry e : entries.values()) {
            views.add(e.view());
        }
        return views;
    }

    public synchronized void remove(String id) {
        entries.remove(id);
    }

    public synchronized int size() {
        expire();
        return entries.size();
    }

    private void expire() {
        Instant cutoff = clock.instant().minus(maxAge);
        Iterator<Entry> it = entries.values().iterator();
        while (it.hasNext() && !it.next().recordedAt().isAfter(cutoff)) {
            it.remove();
        }
    }

    private record Entry(JobView view, Instant recordedAt) {}
}
