package dev.blockpull.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The service as users run it: {@code BlockpullApplication}'s main in a child JVM on the test's
 * class path (without the test classes), on a free HTTP port and no NBD port, its output in a
 * log file; {@link #start} returns once {@code /actuator/health} answers 200.
 */
public final class ServiceProcess implements AutoCloseable {

    private static final Duration START = Duration.ofSeconds(90);
    private static final Duration REQUEST = Duration.ofSeconds(10);

    private final Process process;
    private final int port;
    private final HttpClient http = HttpClient.newHttpClient();

    private ServiceProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts the service on {@code dataRoot} with further {@code --name=value} arguments. */
    public static ServiceProcess start(Path dataRoot, Path log, String... arguments) throws IOException {
        return start(dataRoot, log, List.of(), arguments);
    }

    /** {@link #start(Path, Path, String...)} with options for the child JVM, e.g. to start it faster. */
    public static ServiceProcess start(Path dataRoot, Path log, List<String> jvmOptions, String... arguments)
            throws IOException {
        int port = freePort();
        Process process = launch(dataRoot, log, jvmOptions, port, arguments);
        ServiceProcess service = new ServiceProcess(process, port);
        try {
            await().atMost(START).ignoreExceptions().until(() -> {
                assertThat(process.isAlive())
                        .as("the service is running (see %s)", log)
                        .isTrue();
                return service.get("/actuator/health").statusCode() == 200;
            });
        } catch (RuntimeException | Error e) {
            service.close();
            throw e;
        }
        return service;
    }

    /**
     * Starts the service where its start must fail, and waits for the process to end.
     *
     * @return its exit code
     */
    public static int startFailing(Path dataRoot, Path log, List<String> jvmOptions, String... arguments)
            throws IOException, InterruptedException {
        Process process = launch(dataRoot, log, jvmOptions, freePort(), arguments);
        if (!process.waitFor(START.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the service kept running, see " + log);
        }
        return process.exitValue();
    }

    private static Process launch(Path dataRoot, Path log, List<String> jvmOptions, int port, String... arguments)
            throws IOException {
        List<String> command = new ArrayList<>(List.of(javaBinary()));
        command.addAll(jvmOptions);
        command.addAll(List.of(
                "-cp",
                applicationClassPath(),
                "dev.blockpull.BlockpullApplication",
                "--server.port=" + port,
                "--blockpull.data-root=" + dataRoot,
                "--blockpull.nbd.port=0"));
        command.addAll(List.of(arguments));
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(uri(path)).timeout(REQUEST).build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(uri(path))
                        .timeout(REQUEST)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> delete(String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(uri(path)).timeout(REQUEST).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> patch(String path, String json) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(uri(path))
                        .timeout(REQUEST)
                        .header("Content-Type", "application/json")
                        .method("PATCH", HttpRequest.BodyPublishers.ofString(json))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The lines of {@code /jobs/events} (after {@code lastEventId}) from the start of the stream up
     * to the first line for which {@code last} holds.
     */
    public List<String> eventLinesUntil(long lastEventId, java.util.function.Predicate<String> last) throws Exception {
        HttpResponse<java.util.stream.Stream<String>> response = http.send(
                HttpRequest.newBuilder(uri("/jobs/events"))
                        .header("Last-Event-ID", Long.toString(lastEventId))
                        .build(),
                HttpResponse.BodyHandlers.ofLines());
        assertThat(response.statusCode()).isEqualTo(200);
        try (java.util.stream.Stream<String> lines = response.body()) {
            return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        List<String> seen = new ArrayList<>();
                        java.util.Iterator<String> it = lines.iterator();
                        while (it.hasNext()) {
                            String line = it.next();
                            seen.add(line);
                            if (last.test(line)) {
                                break;
                            }
                        }
                        return seen;
                    })
                    .get(REQUEST.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** SIGKILL: nothing of the service runs any more, as after an OOM kill or a power cut. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    /** SIGTERM, then waits for the graceful exit (at most {@code timeout}); true if it exited. */
    public boolean terminate(Duration timeout) throws InterruptedException {
        process.destroy();
        return process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Kills the process if it still runs. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    /** A tool of the JDK that runs the tests (java, jcmd). */
    public static String jdkTool(String name) {
        return Path.of(System.getProperty("java.home"), "bin", name).toString();
    }

    private static String javaBinary() {
        return jdkTool("java");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The test JVM's class path without the test classes (their test configurations must not load). */
    private static String applicationClassPath() {
        List<String> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String path = e.replace('\\', '/');
            if (!path.endsWith("test-classes") && !path.endsWith("test-classes/")) {
                entries.add(e);
            }
        }
        assertThat(entries).as("class path").anyMatch(e -> e.replace('\\', '/').matches(".*target/classes/?"));
        return String.join(File.pathSeparator, entries);
    }
}
