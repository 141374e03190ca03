package dev.blockpull.stream;

import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.DrainParticipant;
import dev.blockpull.job.DrainableJob;
import java.util.Collection;
import java.util.function.Supplier;

/**
 * The graph's drain callbacks adapted to the job floor's (the graph cannot see jobs). The job's
 * requests enter at its filter (or, once the filter is gone, at the device node) and may descend
 * the whole chain, so a drain of any node of that chain waits for the job, as a QEMU drain
 * reaches a job through the parents of the drained node.
 */
final class JobDrainAdapter implements DrainParticipant {

    private final DrainableJob job;
    private final Supplier<BlockNode> entry;

    JobDrainAdapter(DrainableJob job, Supplier<BlockNode> entry) {
        this.job = job;
        this.entry = entry;
    }

    @Override
    public Collection<? extends BlockNode> drainNodes() {
        return BackingChain.chain(entry.get());
    }

    @Override
    public void drainBegin() {
        job.drainedBegin();
    }

    @Override
    public boolean isQuiescent() {
        return job.isQuiescent();
    }

    @Override
    public void drainEnd() {
        job.drainedEnd();
    }
}
