package dev.blockpull.format.qcow2;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongFunction;
import org.jspecify.annotations.Nullable;

/**
 * A bounded LRU cache of L2 tables. A dirty table may only reach the disk after the refcounts
 * and data it points at are durable, so evicting one first runs the image's ordered metadata
 * flush ({@code flushAll}), which writes every dirty table in the right order.
 */
final class L2Cache {

    private final int capacity;
    private final Runnable flushAll;
    private final Map<Long, L2Table> tables = new LinkedHashMap<>(64, 0.75f, true);
    /** The table of the last hit: a walk asks for the same table cluster after cluster (no boxing, no reordering). */
    private @Nullable L2Table last;

    L2Cache(int capacity, Runnable flushAll) {
        this.capacity = Math.max(2, capacity);
        this.flushAll = flushAll;
    }

    L2Table get(long offset, LongFunction<L2Table> loader) {
        L2Table recent = last;
        if (recent != null && recent.offset() == offset) {
            return recent;
        }
        L2Table t = tables.get(offset);
        if (t == null) {
            t = loader.apply(offset);
            put(t);
        }
        last = t;
        return t;
    }

    void put(L2Table table) {
        last = null;
        tables.put(table.offset(), table);
        if (tables.size() > capacity) {
            evictOne(table);
        }
    }

    void remove(long offset) {
        last = null;
        tables.remove(offset);
    }

    private void evictOne(L2Table keep) {
        Iterator<L2Table> it = tables.values().iterator();
        while (it.hasNext()) {
            L2Table victim = it.next();
            if (victim == keep) {
                continue;
            }
            if (victim.isDirty()) {
                flushAll.run();
            }
            tables.remove(victim.offset());
            last = null;
            return;
        }
    }

    boolean hasDirty() {
        return tables.values().stream().anyMatch(L2Table::isDirty);
    }

    Iterable<L2Table> tables() {
        return tables.values();
    }
}
