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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One small stream job through a private graph and scheduler, run once at start-up so that the
 * JIT has compiled the copy path before the first user's job. A fresh JVM otherwise compiles a
 * few hundred methods of it on the very CPUs the first job copies with: profiled on 2 CPUs, a
 * 199 MiB stream took 0.45-0.52 s as the first job of a JVM and 0.29-0.36 s as the second, with
 * half the CPU. Nothing of it is visible: its chain lives in a temporary directory outside the
 * data root, its graph and scheduler are its own, it keeps two copies of 512 KiB in flight (a small
 * warm-up already takes most of the JIT work off the first job, and a larger one leaves more
 * compiler memory behind in an idle service), and it is deleted afterwards.
 */
public final class CopyPathWarmUp {

    private static final Logger log = LoggerFactory.getLogger(CopyPathWarmUp.class);
    private static final long MIB = 1 << 20;
    /** Guest size of the warm-up chain; the base holds 3/4 of each MiB, the mid 1/4 over it. */
    static final long SIZE = 64 * MIB;

    private static final int COPIES = 2;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    static final String JOB_ID = "copy-path-warm-up";

    private CopyPathWarmUp() {}

    /**
     * Streams a temporary chain under {@code scratchParent} whole into its top, with O_DIRECT when
     * {@code direct}; returns how long it took, or empty when it could not run (it never throws:
     * a service without a writable temporary directory only starts colder).
     */
    public static Optional<Duration> run(Path scratchParent, boolean direct) {
        long start = System.nanoTime();
        Path dir = null;
        try {
            dir = Files.createTempDirectory(scratchParent, "blockpull-warm-up-");
            stream(dir, direct);
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

    private static void stream(Path dir, boolean direct) {
        DataRoot root = new DataRoot(dir);
        makeChain(root);
        JobScheduler scheduler = new JobScheduler();
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
            StreamSettings settings = StreamSettings.defaults().withCopies(COPIES, StreamSettings.QEMU_CHUNK);
            new StreamLauncher(graph, scheduler, settings)
                    .start(new StreamRequest(
                            JOB_ID, "top", null, null, null, null, 0, OnErrorPolicy.REPORT, null, true, false));
            JobView done = awaitConcluded(scheduler);
            if (done.error() != null) {
                throw new IllegalStateException("warm-up stream failed: " + done.error());
            }
            scheduler.dismiss(JOB_ID);
        } finally {
            scheduler.close();
        }
    }

    /** base <- mid <- top, data in base and mid written by the engine itself. */
    private static void makeChain(DataRoot root) {
        ImageCreator.create(root.resolve("base.qcow2"), CreateOptions.qcow2(SIZE, null), root.files());
        ImageCreator.create(
                root.resolve("mid.qcow2"),
                CreateOptions.qcow2(SIZE, new BackingReference("base.qcow2", ImageFormat.QCOW2)),
                root.files());
        ImageCreator.create(
                root.resolve("top.qcow2"),
                CreateOptions.qcow2(SIZE, new BackingReference("mid.qcow2", ImageFormat.QCOW2)),
                root.files());
        fill(root, "base.qcow2", 0, 3 * MIB / 4, 0x5a);
        fill(root, "mid.qcow2", MIB / 2, MIB / 4, 0xa5);
    }

    /** Writes {@code length} bytes of {@code pattern} at {@code offset} into every MiB of the image. */
    private static void fill(DataRoot root, String name, long offset, long length, int pattern) {
        ByteBuffer data = ByteBuffer.allocate((int) length);
        while (data.hasRemaining()) {
            data.put((byte) pattern);
        }
        try (Image image = ImageOpener.open(root.resolve(name), ImageFormat.QCOW2, false, false, root.files())) {
            for (long mib = 0; mib < SIZE; mib += MIB) {
                image.write(mib + offset, data.clear());
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

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            log.warn("Could not remove the warm-up directory {}: {}", dir, e.toString());
        }
    }
}
