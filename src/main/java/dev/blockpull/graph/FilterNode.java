package dev.blockpull.graph;

import dev.blockpull.format.AllocationRun;
import dev.blockpull.format.Extent;
import dev.blockpull.io.ReadHint;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A filter: passes every request to its one child. Its length is the child's, and allocation
 * questions are answered by the child. Subclasses add behaviour (copy-on-read, fault injection).
 */
public abstract class FilterNode extends BlockNode {

    private final Link filtered;
    private final boolean implicit;

    FilterNode(String name, Driver driver, BlockNode child, boolean implicit, DrainCoordinator drains) {
        this(name, driver, child, implicit, drains, false);
    }

    FilterNode(
            String name, Driver driver, BlockNode child, boolean implicit, DrainCoordinator drains, boolean userOwned) {
        super(name, driver, drains, userOwned);
        this.filtered = new Link(this, ChildRole.FILTERED, child);
        this.implicit = implicit;
    }

    public BlockNode child() {
        return Objects.requireNonNull(filtered.child(), "filter without child");
    }

    @Override
    public Link filteredLink() {
        return filtered;
    }

    @Override
    public boolean isImplicit() {
        return implicit;
    }

    @Override
    public long length() {
        return child().length();
    }

    @Override
    public boolean isReadOnly() {
        return child().isReadOnly();
    }

    @Override
    public @Nullable Path path() {
        return child().path();
    }

    @Override
    public List<Link> children() {
        return List.of(filtered);
    }

    /**
     * A write into the node below that does not descend through this filter's request path: the
     * copy-on-read filter writes into its top directly (under the top's cluster locks), yet in
     * QEMU that write passes every filter between them. A filter that acts on writes checks it here.
     */
    protected void writeBelow(long offset, long length) {}

    @Override
    protected void doRead(long offset, ByteBuffer dst, ReadHint hint) {
        child().read(offset, dst, hint);
    }

    @Override
    protected AllocationRun doAllocationRun(long offset, long length) {
        return child().allocationRun(offset, length);
    }

    @Override
    protected void doWriteBack() {
        child().writeBack();
    }

    @Override
    protected void doPrefetch(long offset, long length, ByteBuffer scratch) {
        child().prefetch(offset, length, scratch);
    }

    @Override
    protected void doWrite(long offset, ByteBuffer src) {
        child().write(offset, src);
    }

    @Override
    protected void doWriteZeroes(long offset, long length, boolean mayUnmap) {
        child().writeZeroes(offset, length, mayUnmap);
    }

    @Override
    protected void doFlush() {
        child().flush();
    }

    @Override
    protected List<Extent> doBlockStatus(long offset, long length) {
        return child().blockStatus(offset, length);
    }
}
