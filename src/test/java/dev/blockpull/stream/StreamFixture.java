package dev.blockpull.stream;

import static org.awaitility.Awaitility.await;

import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.Driver;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.graph.GraphSettings;
import dev.blockpull.graph.NodeDefinition;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.io.DataRoot;
import dev.blockpull.job.EventSubscriber;
import dev.blockpull.job.JobEvent;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.job.PublishedEvent;
import dev.blockpull.testsupport.QemuTools;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A graph over a test's data root with fault-injecting files under every image, a scheduler, a
 * launcher and a recorder of the scheduler's events.
 */
final class StreamFixture implements AutoCloseable, EventSubscriber {

    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;
    static final Duration WAIT = Duration.ofSeconds(30);

    final Path dir;
    final DataRoot root;
    final FaultyImages images = new FaultyImages();
    final NodeGraph graph;
    final JobScheduler scheduler = new JobScheduler();
    final StreamLauncher launcher;
    final List<PublishedEvent> events = new CopyOnWriteArrayList<>();
    private boolean closed;

    StreamFixture(Path dir) {
        this(dir, StreamSettings.defaults());
    }

    StreamFixture(Path dir, StreamSettings settings) {
        this(dir, settings, StreamLauncher.DEFAULT_COPIER_THREADS);
    }

    StreamFixture(Path dir, StreamSettings settings, int copierThreads) {
        this.dir = dir;
        this.root = new DataRoot(dir);
        this.graph = new NodeGraph(
                root, (image, ref) -> root.resolveBacking(image, ref.fileName()), new GraphSettings(16, false), images);
        this.launcher = new StreamLauncher(graph, scheduler, settings, copierThreads);
        scheduler.events().subscribe(this);
    }

    @Override
    public void onEvent(PublishedEvent event) {
        events.add(event);
    }

    /**
     * Opens a chain with the given node names, top first, each layer's file named
     * {@code files[i]} (relative to the root); the last one has no backing node.
     */
    FormatNode openChain(String[] names, String[] files) {
        return openChain(names, files, false);
    }

    FormatNode openChain(String[] names, String[] files, boolean topReadOnly) {
        NodeDefinition def = null;
        for (int i = names.length - 1; i >= 0; i--) {
            NodeDefinition.BackingDefinition backing =
                    def == null ? new NodeDefinition.NoBacking() : new NodeDefinition.Nested(def);
            Driver driver = files[i].endsWith(".raw") ? Driver.RAW : Driver.QCOW2;
            def = new NodeDefinition(
                    names[i],
                    driver,
                    new NodeDefinition.FileDefinition(files[i], false),
                    backing,
                    i == 0 ? topReadOnly : true);
        }
        return graph.open(def);
    }

    /** base ← mid ← top as nodes {@code base}, {@code mid}, {@code top}. */
    FormatNode openBaseMidTop(String baseFile) {
        return openChain(new String[] {"top", "mid", "base"}, new String[] {"top.qcow2", "mid.qcow2", baseFile});
    }

    BlockNode node(String name) {
        return graph.get(name);
    }

    /** A raw copy of the guest view of {@code image}: the "before" of qemu-img compare. */
    Path snapshotRaw(Path image, String name) {
        Path raw = dir.resolve(name);
        QemuTools.require().convertToRaw(image, raw);
        return raw;
    }

    JobView start(StreamRequest request) {
        return launcher.start(request);
    }

    JobView view(String id) {
        return scheduler.get(id);
    }

    /** Waits until the job is concluded or gone (auto-dismiss keeps it readable in the history). */
    JobView awaitFinished(String id) {
        await().atMost(WAIT).until(() -> {
            JobView v = scheduler.get(id);
            return v.status() == JobStatus.CONCLUDED || v.status() == JobStatus.NULL;
        });
        return scheduler.get(id);
    }

    JobView awaitStatus(String id, JobStatus status) {
        await().atMost(WAIT).until(() -> scheduler.get(id).status() == status);
        return scheduler.get(id);
    }

    /** Event names of one job in order, JOB_STATUS_CHANGE written as its status. */
    List<String> trail(String jobId) {
        List<String> trail = new ArrayList<>();
        for (PublishedEvent p : events) {
            JobEvent e = p.event();
            if (e.jobId().equals(jobId)) {
                trail.add(e instanceof JobEvent.JobStatusChange s ? s.status().qmpName() : e.name());
            }
        }
        return trail;
    }

    List<JobEvent> eventsOf(String jobId, Class<? extends JobEvent> type) {
        List<JobEvent> out = new ArrayList<>();
        for (PublishedEvent p : events) {
            if (p.event().jobId().equals(jobId) && type.isInstance(p.event())) {
                out.add(p.event());
            }
        }
        return out;
    }

    /** Waits until the job's trail ends with {@code last} (events are delivered asynchronously). */
    List<String> awaitTrailEnd(String jobId, String last) {
        await().atMost(WAIT).until(() -> {
            List<String> t = trail(jobId);
            return !t.isEmpty() && t.get(t.size() - 1).equals(last);
        });
        return trail(jobId);
    }

    /** Nodes whose driver is copy-on-read. */
    List<String> filters() {
        return graph.nodes().stream()
                .filter(n -> n.driver() == Driver.COPY_ON_READ)
                .map(BlockNode::name)
                .toList();
    }

    /** Shuts the scheduler down and closes every node (images flushed), so qemu-img may judge the files. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        scheduler.shutdown(Duration.ofSeconds(20));
        graph.close();
    }
}
