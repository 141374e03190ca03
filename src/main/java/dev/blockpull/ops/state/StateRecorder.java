package dev.blockpull.ops.state;

import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.NodeDefinition;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.graph.NodeName;
import dev.blockpull.job.EventSubscriber;
import dev.blockpull.job.EventSubscription;
import dev.blockpull.job.JobEvent;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.job.PublishedEvent;
import dev.blockpull.ops.state.ServiceState.ExportStep;
import dev.blockpull.ops.state.ServiceState.GraphStep;
import dev.blockpull.ops.state.ServiceState.JobRecord;
import dev.blockpull.ops.state.ServiceState.NodeRecord;
import dev.blockpull.ops.state.ServiceState.NodeRef;
import dev.blockpull.ops.state.ServiceState.OpenStep;
import dev.blockpull.ops.state.ServiceState.SnapshotStep;
import dev.blockpull.stream.StreamOrigin;
import dev.blockpull.stream.StreamRequest;
import dev.blockpull.stream.StreamStartListener;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the state file up to date with what users asked for. The API tells it of every graph
 * change it made (after the change succeeded, before it answers, so an acknowledged change is
 * on disk); the stream launcher of every job it starts; job status changes arrive as events and
 * are saved on a writer thread of their own, coalesced. Nothing is written until
 * {@link #startRecording} (after the restore) and after {@link #stopRecording} (at shutdown,
 * before the jobs park: a parked job stays recorded as it was).
 */
public final class StateRecorder implements StreamStartListener, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StateRecorder.class);

    private final StateFile file;
    private final NodeGraph graph;
    private final JobScheduler scheduler;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "blockpull-state-writer");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean saveQueued = new AtomicBoolean();
    // Guarded by this.
    private final List<GraphStep> steps = new ArrayList<>();
    private final Map<String, JobRecord> jobs = new LinkedHashMap<>();
    private boolean recording;
    private @Nullable EventSubscription subscription;

    public StateRecorder(StateFile file, NodeGraph graph, JobScheduler scheduler) {
        this.file = file;
        this.graph = graph;
        this.scheduler = scheduler;
    }

    // ---------------------------------------------------------------- what the API did

    /** {@code POST /nodes} of a qcow2/raw definition succeeded (blkdebug filters are not recorded). */
    public void nodeOpened(NodeDefinition definition) {
        NodeRecord node = NodeRecords.of(definition);
        if (node == null) {
            log.info("Node {} is not recorded for restarts: blkdebug filters are debug aids", definition.nodeName());
            return;
        }
        change(() -> steps.add(new OpenStep(node)));
    }

    /**
     * {@code DELETE /nodes/{name}} of the node of {@code file} succeeded: the open or snapshot that
     * made it is forgotten (a snapshot overlay by its file: a generated name may have changed at a
     * restart).
     */
    public void nodeClosed(String name, @Nullable String file) {
        change(() -> steps.removeIf(s -> (s instanceof OpenStep o
                        && name.equals(o.node().nodeName()))
                || (s instanceof SnapshotStep sn
                        && (name.equals(sn.overlay().name()) || sn.file().equals(file)))));
    }

    /** {@code POST /nodes/{node}/snapshot} succeeded. */
    public void snapshotTaken(String node, String overlayFile, String overlayName) {
        change(() -> steps.add(new SnapshotStep(ref(node), overlayFile, ref(overlayName))));
    }

    public void exportAdded(String id, String node, boolean writable, List<String> allowedClientSubjects) {
        change(() -> steps.add(new ExportStep(id, ref(node), writable, allowedClientSubjects)));
    }

    public void exportRemoved(String id) {
        change(() -> steps.removeIf(s -> s instanceof ExportStep e && e.id().equals(id)));
    }

    /** A job changed in a way no event tells (its speed). */
    public void jobChanged() {
        change(() -> {});
    }

    @Override
    public void started(StreamRequest request, StreamOrigin origin, JobView view) {
        change(() -> jobs.put(view.id(), new JobRecord(request, origin, view)));
    }

    /** A node as a step refers to it: generated names with the file they stand for. */
    private NodeRef ref(String name) {
        String f = null;
        if (NodeName.isGenerated(name)) {
            f = graph.find(name)
                    .map(n -> graph.filename(BackingChain.skipFilters(n)))
                    .orElse(null);
        }
        return new NodeRef(name, f);
    }

    private void change(Runnable update) {
        synchronized (this) {
            update.run();
            saveLocked();
        }
    }

    // ---------------------------------------------------------------- saving

    /**
     * Begins recording with {@code restored}, the graph steps the restore brought back (the jobs it
     * resumed were recorded as they started), and saves.
     */
    public synchronized void startRecording(List<GraphStep> restored) {
        steps.clear();
        steps.addAll(restored);
        recording = true;
        saveLocked();
        subscription = scheduler.events().subscribe(new EventSubscriber() {
            @Override
            public void onEvent(PublishedEvent event) {
                if (!(event.event() instanceof JobEvent.JobProgress)) {
                    requestSave();
                }
            }

            @Override
            public void onDisconnect(DisconnectReason reason) {
                log.warn("State recorder fell behind the job events ({}); saving now", reason);
                requestSave();
            }
        });
    }

    /** Saves once more and stops: what happens to the jobs from now on (parking) is not recorded. */
    public synchronized void stopRecording() {
        if (!recording) {
            return;
        }
        saveLocked();
        recording = false;
        if (subscription != null) {
            subscription.close();
        }
    }

    /** What would be recorded now. */
    synchronized ServiceState snapshot() {
        List<JobRecord> live = new ArrayList<>();
        for (Iterator<JobRecord> it = jobs.values().iterator(); it.hasNext(); ) {
            JobRecord r = it.next();
            JobView now = scheduler.find(r.view().id()).orElse(null);
            if (now == null || now.status() == JobStatus.NULL) {
                // Dismissed: it is in the history, which is recorded as the scheduler keeps it.
                it.remove();
                continue;
            }
            live.add(new JobRecord(r.request(), r.origin(), now));
        }
        live.forEach(r -> jobs.put(r.view().id(), r));
        return new ServiceState(
                ServiceState.VERSION,
                steps,
                live,
                scheduler.history().list(),
                scheduler.events().lastSequence());
    }

    private void requestSave() {
        if (saveQueued.compareAndSet(false, true)) {
            writer.execute(() -> {
                saveQueued.set(false);
                save();
            });
        }
    }

    private synchronized void save() {
        saveLocked();
    }

    private void saveLocked() {
        if (!recording) {
            return;
        }
        try {
            file.write(snapshot());
        } catch (RuntimeException e) {
            // The service goes on; the next change tries again.
            log.error("Cannot record the state: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        writer.shutdown();
    }
}
