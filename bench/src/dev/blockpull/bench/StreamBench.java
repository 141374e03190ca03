package dev.blockpull.bench;

import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.Driver;
import dev.blockpull.graph.GraphSettings;
import dev.blockpull.graph.NodeDefinition;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.io.DataRoot;
import dev.blockpull.job.JobResult;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.job.OnErrorPolicy;
import dev.blockpull.stream.StreamLauncher;
import dev.blockpull.stream.StreamRequest;
import dev.blockpull.stream.StreamSettings;

import dev.blockpull.format.BackingReference;
import dev.blockpull.format.CreateOptions;
import dev.blockpull.format.Image;
import dev.blockpull.format.ImageCreator;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The Blockpull side of bench/stream.sh. Not part of the product: compiled by the script against
 * the built application's classes.
 *
 * <pre>
 * StreamBench DATA_ROOT TOP_FILE BASE_NODE_DEPTH|full GUEST_BYTES [--copies N]
 * </pre>
 *
 * Opens {@code TOP_FILE} (relative to {@code DATA_ROOT}) with the chain its header names, streams
 * into it with a stream job (into the whole chain for {@code full}, else with {@code baseNode} =
 * the layer that many steps below the top), waits until the job has concluded, and prints
 * {@code RESULT mode=stream bytes=... seconds=... mib_per_s=...}. Timed from the start request
 * to the concluded job: run loop, completion, and the flush before the header rewrite; opening
 * the chain and closing the images are not timed.
 */
public final class StreamBench {

    private StreamBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: StreamBench DATA_ROOT TOP_FILE BASE_DEPTH|full GUEST_BYTES [--copies N]");
            System.exit(64);
        }
        Path rootDir = Path.of(args[0]);
        String topFile = args[1];
        String baseDepth = args[2];
        long bytes = Long.parseLong(args[3]);
        int copies = StreamSettings.defaults().copiesInFlight();
        for (int i = 4; i < args.length; i++) {
            if (args[i].equals("--copies") && i + 1 < args.length) {
                copies = Integer.parseInt(args[++i]);
            }
        }
        warmUp(rootDir, copies);
        DataRoot root = new DataRoot(rootDir);
        try (NodeGraph graph = new NodeGraph(root, (image, ref) -> root.resolveBacking(image, ref.fileName()),
                new GraphSettings(16, false));
             JobScheduler scheduler = new JobScheduler()) {
            var top = graph.open(new NodeDefinition("top", Driver.QCOW2,
                    new NodeDefinition.FileDefinition(topFile, false), new NodeDefinition.FromHeader(), false));
            String baseNode = null;
            if (!baseDepth.equals("full")) {
                BlockNode n = top;
                for (int d = Integer.parseInt(baseDepth); d > 0 && n != null; d--) {
                    n = BackingChain.chainNext(n);
                }
                if (n == null) {
                    throw new IllegalArgumentException("the chain of " + topFile + " is not " + baseDepth + " layers deep");
                }
                baseNode = n.name();
            }
            StreamLauncher launcher = new StreamLauncher(graph, scheduler,
                    StreamSettings.defaults().withCopies(copies, StreamSettings.defaults().mergedCopySize()));
            long t0 = System.nanoTime();
            launcher.start(new StreamRequest("bench", "top", null, baseNode, null, null, 0, OnErrorPolicy.REPORT,
                    null, true, true));
            JobView v;
            while (true) {
                v = scheduler.get("bench");
                if (v.status() == JobStatus.CONCLUDED || v.status() == JobStatus.NULL) {
                    break;
                }
                Thread.sleep(2);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (v.result() != JobResult.COMPLETED) {
                System.err.println("stream job failed: " + v.error());
                System.exit(2);
            }
            System.out.printf(Locale.ROOT, "RESULT mode=stream copies=%d bytes=%d seconds=%.3f mib_per_s=%.1f copied=%d%n",
                    copies, bytes, seconds, bytes / 1048576.0 / seconds, launcher.copiedBytesTotal());
            scheduler.shutdown(Duration.ofSeconds(10));
        }
    }

    /**
     * Streams a small scratch chain once, untimed, so the timed run meets compiled code as a
     * long-running service would (the image bench does the same with its warm-up run).
     */
    private static void warmUp(Path rootDir, int copies) throws Exception {
        Path dir = Files.createTempDirectory(rootDir, "warmup-");
        try {
            long size = 256L << 20;
            ImageCreator.create(dir.resolve("base.qcow2"), CreateOptions.qcow2(size, null));
            try (Image base = ImageOpener.open(dir.resolve("base.qcow2"), ImageFormat.QCOW2, false)) {
                ByteBuffer data = ByteBuffer.allocate(1 << 20);
                for (long off = 0; off < size; off += 2L << 20) {
                    data.clear();
                    data.put(0, (byte) (off >>> 20));
                    base.write(off, data);
                }
            }
            ImageCreator.create(dir.resolve("top.qcow2"),
                    CreateOptions.qcow2(size, new BackingReference("base.qcow2", ImageFormat.QCOW2)));
            DataRoot root = new DataRoot(rootDir);
            try (NodeGraph graph = new NodeGraph(root, (image, ref) -> root.resolveBacking(image, ref.fileName()),
                    new GraphSettings(16, false));
                 JobScheduler scheduler = new JobScheduler()) {
                graph.open(new NodeDefinition("warm", Driver.QCOW2, new NodeDefinition.FileDefinition(
                        root.relativize(dir.resolve("top.qcow2")), false), new NodeDefinition.FromHeader(), false));
                new StreamLauncher(graph, scheduler, StreamSettings.defaults().withCopies(copies, StreamSettings.defaults().mergedCopySize()))
                        .start(new StreamRequest("warm", "warm", null, null, null, null, 0, OnErrorPolicy.REPORT,
                                null, true, true));
                while (scheduler.get("warm").status() != JobStatus.NULL
                        && scheduler.get("warm").status() != JobStatus.CONCLUDED) {
                    Thread.sleep(2);
                }
                scheduler.shutdown(Duration.ofSeconds(10));
            }
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
