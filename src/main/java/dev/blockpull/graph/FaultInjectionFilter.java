package dev.blockpull.graph;

import dev.blockpull.io.ReadHint;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * QEMU's {@code blkdebug} as a filter over an image node: requests that meet one of its rules fail
 * with the rule's errno and never reach the image; the rest pass through untouched. Offsets are
 * the image's guest offsets, so a rule names "the data at offset N of this layer". Put it between
 * a chain's backing link and a layer to make that layer fail: chain walks skip it like any filter.
 *
 * <p>Rules can be added and removed at any time, from any thread, while requests run; a request
 * sees the rules in force when it arrives.
 */
public final class FaultInjectionFilter extends FilterNode {

    /** A rule in force, with its id and how often it fired. */
    public record ActiveRule(long id, InjectedError error, long hits) {}

    private final ConcurrentSkipListMap<Long, Rule> rules = new ConcurrentSkipListMap<>();
    private final AtomicLong nextId = new AtomicLong();

    FaultInjectionFilter(
            String name, BlockNode child, List<InjectedError> initial, DrainCoordinator drains, boolean userOwned) {
        super(name, Driver.BLKDEBUG, child, false, drains, userOwned);
        initial.forEach(this::addRule);
    }

    public ActiveRule addRule(InjectedError error) {
        long id = nextId.incrementAndGet();
        Rule rule = new Rule(error);
        rules.put(id, rule);
        return rule.view(id);
    }

    /** Removes a rule; false when there is none with that id (it may have fired once and gone). */
    public boolean removeRule(long id) {
        return rules.remove(id) != null;
    }

    /** The rules in force, oldest first. */
    public List<ActiveRule> rules() {
        return rules.entrySet().stream().map(e -> e.getValue().view(e.getKey())).toList();
    }

    @Override
    protected void doRead(long offset, ByteBuffer dst, ReadHint hint) {
        check(FaultEvent.READ, offset, dst.remaining());
        super.doRead(offset, dst, hint);
    }

    @Override
    protected void doWrite(long offset, ByteBuffer src) {
        check(FaultEvent.WRITE, offset, src.remaining());
        super.doWrite(offset, src);
    }

    @Override
    protected void doWriteZeroes(long offset, long length, boolean mayUnmap) {
        check(FaultEvent.WRITE, offset, length);
        super.doWriteZeroes(offset, length, mayUnmap);
    }

    @Override
    protected void doFlush() {
        check(FaultEvent.FLUSH, 0, 0);
        super.doFlush();
    }

    @Override
    protected void writeBelow(long offset, long length) {
        check(FaultEvent.WRITE, offset, length);
    }

    private void check(FaultEvent event, long offset, long length) {
        Rule fired = firstMatch(event, offset, length);
        if (fired != null) {
            throw fired.error.errno().raise();
        }
    }

    private @Nullable Rule firstMatch(FaultEvent event, long offset, long length) {
        for (Map.Entry<Long, Rule> e : rules.entrySet()) {
            Rule r = e.getValue();
            if (r.error.matches(event, offset, length)) {
                // a once-rule fires for exactly one request, even when several race for it
                if (r.error.once() && !rules.remove(e.getKey(), r)) {
                    continue;
                }
                r.hits.incrementAndGet();
                return r;
            }
        }
        return null;
    }

    private static final class Rule {
        final InjectedError error;
        final AtomicLong hits = new AtomicLong();

        Rule(InjectedError error) {
            this.error = error;
        }

        ActiveRule view(long id) {
            return new ActiveRule(id, error, hits.get());
        }
    }
}
