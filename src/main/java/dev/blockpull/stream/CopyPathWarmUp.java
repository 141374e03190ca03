package dev.blockpull.stream;

import dev.blockpull.format.BackingReference;
import dev.blockpull.format.CreateOptions;
import dev.blockpull.format.Image;
import dev.blockpull.format.ImageCreator;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;
import dev.blockpull.graph.Driver;
import dev.blockpull.graph.GraphSettings;
import dev.blockpull.graph.ImageFileOpener;
import dev.blockpull.graph.NodeDefinition;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.io.DataRoot;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.job.OnErrorPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two small stream jobs through a private graph and scheduler, run once at start-up so that the
 * JIT has compiled the copy path before the first user's job. A fresh JVM otherwise compiles a
 * few hundred methods of it on the very CPUs the first job copies with: profiled on 2 CPUs, a
 * 199 MiB stream took 0.45-0.52 s as the first job of a JVM and 0.29-0.36 s as the second, with
 * half the CPU. The jobs are the two kinds users run (into the top from the mid only, then the
 * whole chain), over a chain whose first MiBs are long runs and whose rest is short runs with
 * holes between: the code that runs once per copy runs there some hundreds of times, enough for
 * the JIT to compile it (a warm-up of a few dozen long copies left ~250 compilations to the first
 * job, this one ~150). Nothing of it is visible: its chain lives in a temporary directory outside
 * the data root, its graph and scheduler are its own, it keeps two copies of one chunk in flight
 * (more or larger ones run the same code, and would leave idle buffers and threads behind in an
 * idle service), and it is deleted afterwards.
 */
public final class CopyPathWarmUp {

    private static final Logger log = LoggerFactory.getLogger(CopyPathWarmUp.class);
    private static final long MIB = 1 << 20;
    /** Guest size of the warm-up chain. */
    static final long SIZE = 64 * MIB;
    /** The head of the chain where the base holds everything (and the mid a quarter of each MiB). */
    private static final long DENSE = 8 * MIB;
    /** The runs of the rest: base, hole, mid, hole. */
    private static final long FRAGMENT = 64 * 1024;

    private static final int COPIES = 2;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    static final String JOB_ID = "copy-path-warm-up";

    private CopyPathWarmUp() {}

    /**
     * Streams a temporary chain under {@code scratchParent} whole into its top, with O_DIRECT when
     * {@code direct}; returns how long it took, or empty when it could not run (it never throws:
     * a service without a writable temporary directory only starts colder).
     */
    public static Optional<Duration> run(Path scratchParent, boolean direct, StreamSettings settings) {
        long start = System.nanoTime();
        Path dir = null;
        try {
            dir = Files.createTempDirectory(scratchParent, "blockpull-warm-up-");
            stream(dir, direct, settings);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            log.info("Copy path warmed up in {} ms", took.toMillis());
            return Optional.of(took);
        } catch (IOException | RuntimeException e) {
            log.warn("Copy path warm-up skipped: {}", e.toString());
            return Optional.empty();
        } finally {
            if (dir != null) {
                deleteTree(dir);
            }
        }
    }

    private static void stream(Path dir, boolean direct, StreamSettings settings) {
        DataRoot root = new DataRoot(dir);
        JobScheduler scheduler = new JobScheduler();
        try {
            // the two kinds of job users run: into the top from the mid only, then the whole chain
            streamOnce(root, scheduler, direct, settings, "base.qcow2");
            streamOnce(root, scheduler, direct, settings, null);
        } finally {
            scheduler.close();
        }
    }

    private static void streamOnce(
            DataRoot root, JobScheduler scheduler, boolean direct, StreamSettings settings, @Nullable String base) {
        makeChain(root);
        try (NodeGraph graph = new NodeGraph(
                root,
                (image, ref) -> root.resolveBacking(image, ref.fileName()),
                new GraphSettings(4, direct),
                ImageFileOpener.confined(root))) {
            graph.open(new NodeDefinition(
                    "top",
                    Driver.QCOW2,
                    new NodeDefinition.FileDefinition("top.qcow2", false),
                    new NodeDefinition.FromHeader(),
                    false));
            // two copies of one chunk in flight run the same code as more and larger ones, and
            // leave neither a pool of large idle buffers nor copier threads behind
            new StreamLauncher(graph, scheduler, settings.withCopies(COPIES, settings.chunkSize()))
                    .start(new StreamRequest(
                            JOB_ID, "top", base, null, null, null, 0, OnErrorPolicy.REPORT, null, true, false));
            JobView done = awaitConcluded(scheduler);
            if (done.error() != null) {
                throw new IllegalStateException("warm-up stream failed: " + done.error());
            }
            scheduler.dismiss(JOB_ID);
        }
    }

    /** base <- mid <- top, data in base and mid written by the engine itself. */
    private static void makeChain(DataRoot root) {
        for (String name : new String[] {"top.qcow2", "mid.qcow2", "base.qcow2"}) {
            deleteIfExists(root.resolve(name));
        }
        ImageCreator.create(root.resolve("base.qcow2"), CreateOptions.qcow2(SIZE, null), root.files());
        ImageCreator.create(
                root.resolve("mid.qcow2"),
                CreateOptions.qcow2(SIZE, new BackingReference("base.qcow2", ImageFormat.QCOW2)),
                root.files());
        ImageCreator.create(
                root.resolve("top.qcow2"),
                CreateOptions.qcow2(SIZE, new BackingReference("mid.qcow2", ImageFormat.QCOW2)),
                root.files());
        // the first MiBs in long runs, as merged copies take them; the rest in runs of 64 KiB with
        // holes between, one copy each, so that the per-copy path runs often enough to be compiled
        fill(root, "base.qcow2", 0, DENSE, DENSE, 0x5a);
        fill(root, "mid.qcow2", MIB / 2, MIB / 4, MIB, 0xa5);
        fill(root, "base.qcow2", DENSE, FRAGMENT, 4 * FRAGMENT, 0x5a);
        fill(root, "mid.qcow2", DENSE + 2 * FRAGMENT, FRAGMENT, 4 * FRAGMENT, 0xa5);
    }

    /**
     * Writes {@code length} bytes of {@code pattern} at {@code offset} and every {@code step} after
     * it, from one small heap buffer: a large one would stay behind in an idle service (in the old
     * generation, and as the JDK's cached direct copy of it).
     */
    private static void fill(DataRoot root, String name, long offset, long length, long step, int pattern) {
        ByteBuffer data = ByteBuffer.allocate((int) Math.min(length, FRAGMENT));
        while (data.hasRemaining()) {
            data.put((byte) pattern);
        }
        try (Image image = ImageOpener.open(root.resolve(name), ImageFormat.QCOW2, false, false, root.files())) {
            for (long at = offset; at + length <= SIZE; at += step) {
                for (long done = 0; done < length; done += data.capacity()) {
                    image.write(at + done, data.clear().limit((int) Math.min(data.capacity(), length - done)));
                }
            }
        }
    }

    private static JobView awaitConcluded(JobScheduler scheduler) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            JobView view = scheduler.get(JOB_ID);
            if (view.status() == JobStatus.CONCLUDED) {
                return view;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("warm-up stream did not conclude within " + TIMEOUT);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while warming up", e);
            }
        }
    }

    private static void deleteIfExists(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            log.warn("Could not remove the warm-up directory {}: {}", dir, e.toString());
        }
    }
}
