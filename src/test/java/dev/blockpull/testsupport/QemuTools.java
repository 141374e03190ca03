package dev.blockpull.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * qemu-img and qemu-io as test oracles.
 *
 * <p>Get an instance with {@link #require()} (in a {@code @BeforeAll} or at the top of a test):
 * when a tool is missing the test is skipped with a loud message on stderr, except under
 * {@code CI=true}, where a missing oracle fails the test: CI must never pass by skipping.
 *
 * <p>Every call runs one process with a timeout (120 s by default), captures stdout and stderr
 * completely, and fails the test with the command line and the output when the tool reports an
 * error. Methods ending in {@code Unchecked}, and {@link #qemuImg}/{@link #qemuIo}, return the
 * result instead, for tests that expect a failure.
 */
public final class QemuTools {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /**
     * qemu-io exits 0 after some failed commands (an {@code aio_write} beyond the end, for one),
     * so its output is searched as well. Normal output is "wrote/read N/N bytes at offset",
     * timing lines and {@code map} lines: none of them contains these words.
     */
    private static final Pattern QEMU_IO_FAILURE = Pattern.compile("(?i)failed|error");

    private static final byte[] QCOW2_MAGIC = {'Q', 'F', 'I', (byte) 0xfb};

    private final Path qemuImg;
    private final Path qemuIo;
    private final Duration timeout;
    private final boolean forceShare;

    private QemuTools(Path qemuImg, Path qemuIo, Duration timeout, boolean forceShare) {
        this.qemuImg = qemuImg;
        this.qemuIo = qemuIo;
        this.timeout = timeout;
        this.forceShare = forceShare;
    }

    // ------------------------------------------------------------------ availability

    /**
     * qemu-img and qemu-io, or a skipped test (a failed one under {@code CI=true}).
     */
    public static QemuTools require() {
        return new QemuTools(requireTool("qemu-img"), requireTool("qemu-io"), DEFAULT_TIMEOUT, false);
    }

    /**
     * Any other oracle ({@code qemu-nbd}, {@code qemu-storage-daemon}, {@code nbdinfo}...), with
     * the same skip-loudly / fail-under-CI rule.
     */
    public static Path requireTool(String name) {
        return requireTool(name, System.getenv("PATH"), isCi());
    }

    /** Whether the tool is on the PATH; never skips or fails. */
    public static boolean isInstalled(String name) {
        return findOnPath(name, System.getenv("PATH")).isPresent();
    }

    /** {@code CI=true} in the environment: missing oracles are failures, not skips. */
    public static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    static Path requireTool(String name, @Nullable String pathVariable, boolean ci) {
        Optional<Path> found = findOnPath(name, pathVariable);
        if (found.isPresent()) {
            return found.get();
        }
        String message = name + " is not installed (not on PATH=" + pathVariable + "); it is an oracle for this test."
                + " Install it: apt-get install " + debianPackageOf(name);
        if (ci) {
            System.err.println("\n[QemuTools] FAILING: " + message
                    + "\n[QemuTools] CI=true: a test that needs an oracle must not pass by skipping.\n");
            throw new AssertionError(message + " (CI=true: missing oracles fail the build)");
        }
        String banner = "*".repeat(100);
        System.err.println("\n" + banner + "\n[QemuTools] SKIPPING TEST: " + message + "\n" + banner + "\n");
        Assumptions.assumeTrue(false, "SKIPPED, oracle missing: " + message);
        throw new IllegalStateException("unreachable");
    }

    static Optional<Path> findOnPath(String name, @Nullable String pathVariable) {
        if (pathVariable == null || pathVariable.isBlank()) {
            return Optional.empty();
        }
        return Arrays.stream(pathVariable.split(java.io.File.pathSeparator))
                .filter(dir -> !dir.isBlank())
                .map(dir -> Path.of(dir).resolve(name))
                .filter(p -> Files.isRegularFile(p) && Files.isExecutable(p))
                .findFirst();
    }

    private static String debianPackageOf(String tool) {
        if (tool.startsWith("nbd")) {
            return "libnbd-bin";
        }
        if (tool.equals("qemu-storage-daemon")) {
            return "qemu-system-common (Debian 12) or qemu-storage-daemon";
        }
        return tool.startsWith("qemu-") ? "qemu-utils" : tool;
    }

    /** The same tools with another per-process timeout. */
    public QemuTools withTimeout(Duration newTimeout) {
        return new QemuTools(qemuImg, qemuIo, newTimeout, forceShare);
    }

    /**
     * The same tools passing {@code -U} (force share) to check, compare, map, info and
     * convertToRaw, for looking at images another process holds open with QEMU-style locks.
     * What they see of an image being written may be inconsistent.
     */
    public QemuTools withForceShare() {
        return new QemuTools(qemuImg, qemuIo, timeout, true);
    }

    public Path qemuImgPath() {
        return qemuImg;
    }

    public Path qemuIoPath() {
        return qemuIo;
    }

    // ------------------------------------------------------------------ qemu-img

    /** {@code qemu-img ARGS...}; the exit code is not checked. */
    public ProcessResult qemuImg(String... args) {
        return run(command(qemuImg, List.of(args)), timeout);
    }

    /** {@code qemu-img ARGS...}, failing the test unless it exits 0. */
    public ProcessResult qemuImgOk(String... args) {
        return requireSuccess(qemuImg(args));
    }

    /**
     * {@code qemu-img create -q -f FORMAT [OPTIONS...] IMAGE SIZE}, e.g.
     * {@code create(base, "qcow2", "4M", "-o", "cluster_size=4k,compat=0.10")}.
     */
    public void create(Path image, String format, String size, String... options) {
        List<String> args = new ArrayList<>(List.of("create", "-q", "-f", format));
        args.addAll(List.of(options));
        args.add(image.toString());
        args.add(size);
        qemuImgOk(args.toArray(String[]::new));
    }

    /**
     * A qcow2 overlay of {@code backing}, recorded by a name relative to the overlay's directory
     * (as {@code qemu-img create -b} would be typed there) and with the backing format probed from
     * its first bytes. The size is the backing's unless the options say {@code -o size=...}.
     */
    public void createOverlay(Path image, Path backing, String... options) {
        String backingFormat = formatOf(backing);
        if (backingFormat == null) {
            throw new AssertionError("backing image " + backing + " does not exist");
        }
        List<String> args = new ArrayList<>(
                List.of("create", "-q", "-f", "qcow2", "-b", backingName(image, backing), "-F", backingFormat));
        args.addAll(List.of(options));
        args.add(image.toString());
        qemuImgOk(args.toArray(String[]::new));
    }

    /** {@code qemu-img check --output=json -f FMT [EXTRA...] IMAGE}, parsed; any exit code is returned. */
    public CheckResult check(Path image, String... extra) {
        List<String> args = new ArrayList<>(List.of("check", "--output=json"));
        addForceShare(args);
        addFormat(args, "-f", image);
        args.addAll(List.of(extra));
        args.add(image.toString());
        ProcessResult r = qemuImg(args.toArray(String[]::new));
        JsonNode json = parseJsonOrNull(r.stdout());
        return new CheckResult(
                r.exitCode(),
                counter(json, "corruptions"),
                counter(json, "leaks"),
                counter(json, "check-errors"),
                counter(json, "leaks-fixed"),
                counter(json, "corruptions-fixed"),
                r.stdout(),
                r.stderr());
    }

    /**
     * {@code qemu-img compare -f FA -F FB A B} in the default (non-strict) mode: unallocated equals
     * zero, and a longer image's zero tail is tolerated. Exit 0 identical, 1 different, 2 open
     * error, 3 allocation error, 4 read error; the result is returned whatever the code.
     */
    public ProcessResult compare(Path a, Path b, String... extra) {
        List<String> args = new ArrayList<>(List.of("compare"));
        addForceShare(args);
        addFormat(args, "-f", a);
        addFormat(args, "-F", b);
        args.addAll(List.of(extra));
        args.add(a.toString());
        args.add(b.toString());
        return qemuImg(args.toArray(String[]::new));
    }

    /** {@code qemu-img map --output=json} of the image and its whole backing chain. */
    public List<MapEntry> map(Path image) {
        List<String> args = new ArrayList<>(List.of("map", "--output=json"));
        addForceShare(args);
        addFormat(args, "-f", image);
        args.add(image.toString());
        ProcessResult r = qemuImgOk(args.toArray(String[]::new));
        return parseMap(r.stdout());
    }

    /** {@code qemu-img info --output=json}: one JSON object. */
    public JsonNode info(Path image) {
        List<String> args = new ArrayList<>(List.of("info", "--output=json"));
        addForceShare(args);
        addFormat(args, "-f", image);
        args.add(image.toString());
        return parseJson(qemuImgOk(args.toArray(String[]::new)));
    }

    /** {@code qemu-img info --output=json --backing-chain}: an array, the image first. */
    public JsonNode infoChain(Path image) {
        List<String> args = new ArrayList<>(List.of("info", "--output=json", "--backing-chain"));
        addForceShare(args);
        addFormat(args, "-f", image);
        args.add(image.toString());
        return parseJson(qemuImgOk(args.toArray(String[]::new)));
    }

    /** The guest content of {@code src} (with its chain) as a raw file; {@code dst} is replaced. */
    public void convertToRaw(Path src, Path dst) {
        List<String> args = new ArrayList<>(List.of("convert"));
        addForceShare(args);
        addFormat(args, "-f", src);
        args.addAll(List.of("-O", "raw", src.toString(), dst.toString()));
        qemuImgOk(args.toArray(String[]::new));
    }

    /** {@code qemu-img convert ARGS...}, failing the test unless it exits 0. */
    public void convert(String... args) {
        List<String> all = new ArrayList<>(List.of("convert"));
        all.addAll(List.of(args));
        qemuImgOk(all.toArray(String[]::new));
    }

    /**
     * Safe {@code qemu-img rebase}: the guest content stays the same (clusters that differ between
     * the old and the new backing are copied into the image): the reference result of a stream.
     * {@code backingName} is as stored in the header (relative names are relative to the image's
     * directory); {@code null} removes the backing file, making the image standalone.
     */
    public void rebase(Path image, @Nullable String backingName, @Nullable String backingFormat) {
        qemuImgOk(rebaseArgs(image, backingName, backingFormat, false));
    }

    /** {@code qemu-img rebase -u}: rewrites the backing name only; the content may change. */
    public void rebaseUnsafe(Path image, @Nullable String backingName, @Nullable String backingFormat) {
        qemuImgOk(rebaseArgs(image, backingName, backingFormat, true));
    }

    private static String[] rebaseArgs(
            Path image, @Nullable String backingName, @Nullable String backingFormat, boolean unsafe) {
        List<String> args = new ArrayList<>(List.of("rebase"));
        if (unsafe) {
            args.add("-u");
        }
        addFormat(args, "-f", image);
        args.addAll(List.of("-b", backingName == null ? "" : backingName));
        if (backingName != null && backingFormat != null) {
            args.addAll(List.of("-F", backingFormat));
        }
        args.add(image.toString());
        return args.toArray(String[]::new);
    }

    // ------------------------------------------------------------------ qemu-io

    /** {@code qemu-io ARGS...}; neither the exit code nor the output is checked. */
    public ProcessResult qemuIo(String... args) {
        return run(command(qemuIo, List.of(args)), timeout);
    }

    /**
     * {@code qemu-io -f FORMAT -c CMD1 -c CMD2 ... IMAGE} (read-write, QEMU's default cache mode),
     * failing the test on a non-zero exit or on output that mentions "failed" or "error" (qemu-io
     * exits 0 after some failed commands). Example commands: {@code write -P 0x11 0 64k},
     * {@code write -z 1M 64k}, {@code write -z -u 1M 64k}, {@code write -c -P 0x22 0 64k}
     * (compressed, whole unallocated clusters only), {@code read -P 0x11 0 64k} (verifies).
     */
    public ProcessResult io(Path image, String format, String... commands) {
        ProcessResult r = ioUnchecked(image, format, commands);
        if (!r.succeeded() || QEMU_IO_FAILURE.matcher(r.output()).find()) {
            throw new AssertionError("qemu-io reported a failure:\n" + r.describe());
        }
        return r;
    }

    /** {@link #io} without the checks. */
    public ProcessResult ioUnchecked(Path image, String format, String... commands) {
        List<String> args = new ArrayList<>(List.of("-f", format));
        for (String c : commands) {
            args.add("-c");
            args.add(c);
        }
        args.add(image.toString());
        return qemuIo(args.toArray(String[]::new));
    }

    /** Whether every byte of {@code [offset, offset + length)} of the guest view is {@code pattern} (qemu-io read -P). */
    public boolean readsPattern(Path image, long offset, long length, int pattern) {
        String format = requireFormat(image);
        ProcessResult r = qemuIo(
                "-r",
                "-f",
                format,
                "-c",
                "read -P 0x" + Integer.toHexString(pattern & 0xff) + " " + offset + " " + length,
                image.toString());
        if (r.output().contains("Pattern verification failed")) {
            return false;
        }
        if (!r.succeeded() || QEMU_IO_FAILURE.matcher(r.output()).find()) {
            throw new AssertionError("qemu-io read failed:\n" + r.describe());
        }
        return true;
    }

    // ------------------------------------------------------------------ helpers

    /**
     * {@code "qcow2"} if the file starts with the qcow2 magic, {@code "raw"} otherwise, null when
     * it cannot be read. Passing the format keeps qemu-img from probing (and from warning about
     * probed raw images).
     */
    public static @Nullable String formatOf(Path image) {
        if (!Files.isRegularFile(image)) {
            return null;
        }
        try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(4);
            while (head.hasRemaining() && ch.read(head) >= 0) {
                // read up to 4 bytes
            }
            return Arrays.equals(head.array(), QCOW2_MAGIC) ? "qcow2" : "raw";
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The backing name to record in {@code image} for {@code backing}: relative to the image's
     * directory, as QEMU resolves relative names against it.
     */
    public static String backingName(Path image, Path backing) {
        Path dir = image.toAbsolutePath().normalize().getParent();
        return dir.relativize(backing.toAbsolutePath().normalize()).toString();
    }

    private static String requireFormat(Path image) {
        String f = formatOf(image);
        if (f == null) {
            throw new AssertionError("image " + image + " does not exist or cannot be read");
        }
        return f;
    }

    private void addForceShare(List<String> args) {
        if (forceShare) {
            args.add("-U");
        }
    }

    private static void addFormat(List<String> args, String flag, Path image) {
        String f = formatOf(image);
        if (f != null) {
            args.add(flag);
            args.add(f);
        }
    }

    static List<MapEntry> parseMap(String json) {
        JsonNode root = JSON.readTree(json);
        if (!root.isArray()) {
            throw new AssertionError("qemu-img map did not print a JSON array:\n" + json);
        }
        List<MapEntry> entries = new ArrayList<>(root.size());
        for (JsonNode e : root) {
            JsonNode offset = e.get("offset");
            entries.add(new MapEntry(
                    e.path("start").asLong(),
                    e.path("length").asLong(),
                    e.path("depth").asInt(),
                    e.path("present").asBoolean(false),
                    e.path("zero").asBoolean(false),
                    e.path("data").asBoolean(false),
                    offset == null || offset.isNull() ? null : offset.asLong()));
        }
        return List.copyOf(entries);
    }

    private static JsonNode parseJson(ProcessResult r) {
        JsonNode json = parseJsonOrNull(r.stdout());
        if (json == null) {
            throw new AssertionError("expected JSON on stdout:\n" + r.describe());
        }
        return json;
    }

    private static @Nullable JsonNode parseJsonOrNull(String text) {
        if (text.isBlank()) {
            return null;
        }
        try {
            return JSON.readTree(text);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static long counter(@Nullable JsonNode json, String key) {
        if (json == null) {
            return 0;
        }
        JsonNode n = json.get(key);
        return n == null || n.isNull() ? 0 : n.asLong(0);
    }

    private static ProcessResult requireSuccess(ProcessResult r) {
        if (!r.succeeded()) {
            throw new AssertionError("command failed:\n" + r.describe());
        }
        return r;
    }

    private static List<String> command(Path tool, List<String> args) {
        List<String> cmd = new ArrayList<>(args.size() + 1);
        cmd.add(tool.toString());
        cmd.addAll(args);
        return cmd;
    }

    // ------------------------------------------------------------------ processes

    /**
     * Runs a command with stdin closed, both output streams drained on their own threads (so a
     * chatty process never blocks on a full pipe), and a timeout after which the process and
     * its descendants are killed and the test fails with whatever they printed.
     */
    public static ProcessResult run(List<String> command, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("LC_ALL", "C");
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new AssertionError("cannot start " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // the process may already be gone; its exit code tells
        }
        Drain out = Drain.start(process.getInputStream(), command.get(0) + "-stdout");
        Drain err = Drain.start(process.getErrorStream(), command.get(0) + "-stderr");
        boolean finished;
        try {
            finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + String.join(" ", command), e);
        }
        if (!finished) {
            kill(process);
            ProcessResult partial = new ProcessResult(command, -1, out.finish(), err.finish());
            throw new AssertionError("timed out after " + timeout.toMillis() + " ms, killed:\n" + partial.describe());
        }
        return new ProcessResult(command, process.exitValue(), out.finish(), err.finish());
    }

    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads one stream to its end on a daemon thread. */
    private static final class Drain implements Runnable {
        private final InputStream in;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final Thread thread;

        private Drain(InputStream in, String name) {
            this.in = in;
            this.thread = new Thread(this, name);
            this.thread.setDaemon(true);
        }

        static Drain start(InputStream in, String name) {
            Drain d = new Drain(in, name);
            d.thread.start();
            return d;
        }

        @Override
        public void run() {
            byte[] chunk = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(chunk)) >= 0) {
                    synchronized (buffer) {
                        buffer.write(chunk, 0, n);
                    }
                }
            } catch (IOException e) {
                // stream closed under us (killed process): keep what was read
            }
        }

        /** Waits for the end of the stream (bounded: a killed process's grandchildren may hold it open). */
        String finish() {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (buffer) {
                return buffer.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
