package dev.blockpull.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The HTTP side of bench/load.sh: stream jobs on chains the script opened, SSE subscribers, and an
 * open-loop stream of status GETs at a fixed rate, while the script's NBD clients read the tops.
 * Not part of the product: compiled by the script against the built application's libraries.
 *
 * <pre>
 * LoadBench BASE_URL PID JOBS RATE SSE MIN_SECONDS SPEED
 * </pre>
 *
 * Requests are sent at their planned times whatever the answers do (open loop): a slow answer
 * does not slow the next request down, so a stall shows in the latencies instead of hiding in a
 * lower rate. Latency "planned" is measured from the planned send time, so time a request waited
 * for one of the client's 64 threads counts too; "sent" from when a thread sent it. The GETs go out
 * over each thread's kept-alive connection ({@link KeepAliveGet}). Prints the figures; exit 2 when a request failed, a job did not
 * complete, or an SSE subscriber missed a job's completion.
 */
public final class LoadBench {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final String base;
    private final long pid;
    private final int jobs;
    private final int rate;
    private final int sseClients;
    private final int minSeconds;
    private final long speed;
    private final HttpClient http;
    private final ExecutorService senders = Executors.newFixedThreadPool(64);
    /** Each sender thread's own kept-alive connection. */
    private final ThreadLocal<KeepAliveGet> connections;

    private final List<long[]> samples = new ArrayList<>(); // {second, rssKiB, threads}
    private final Latencies statusGets = new Latencies();
    private final Latencies listGets = new Latencies();
    /** The same from the moment a client thread sent it: the service's answer time without the client's queue. */
    private final Latencies statusGetsSent = new Latencies();

    private final Latencies listGetsSent = new Latencies();
    /** The slowest GET (from its planned time) of every second of the load, to see whether stalls come in bursts. */
    private final AtomicLongArray worstBySecond = new AtomicLongArray(36_000);

    private volatile long loadStart;
    private final AtomicLong errors = new AtomicLong();
    private final List<String> errorSamples = new ArrayList<>();
    private String machine = "";

    private LoadBench(String[] a) {
        base = a[0];
        pid = Long.parseLong(a[1]);
        jobs = Integer.parseInt(a[2]);
        rate = Integer.parseInt(a[3]);
        sseClients = Integer.parseInt(a[4]);
        minSeconds = Integer.parseInt(a[5]);
        speed = Long.parseLong(a[6]);
        http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        URI uri = URI.create(base);
        connections = ThreadLocal.withInitial(() -> new KeepAliveGet(uri));
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            System.err.println("usage: LoadBench BASE_URL PID JOBS RATE SSE MIN_SECONDS SPEED");
            System.exit(64);
        }
        System.exit(new LoadBench(args).run());
    }

    private int run() throws Exception {
        warmUp();
        long[] before = sample(0);
        double cpuBefore = cpuSeconds();
        double[] machineBefore = machineCpuSeconds();
        String loadBefore = loadAverage();
        List<SseSubscriber> subscribers = new ArrayList<>();
        for (int i = 0; i < sseClients; i++) {
            subscribers.add(SseSubscriber.open(http, URI.create(base + "/jobs/events")));
        }
        for (int i = 0; i < jobs; i++) {
            String body = "{\"jobId\":\"s" + i + "\",\"device\":\"c" + i + "\",\"speed\":" + speed + "}";
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create(base + "/jobs/stream"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 201) {
                fail("POST /jobs/stream s" + i + ": " + r.statusCode() + " " + r.body());
            }
        }
        // the plan starts once every job exists: the POSTs' own time is not a backlog of the GETs
        long t0 = System.nanoTime();
        Thread load = new Thread(() -> load(t0), "load");
        load.start();
        boolean done = false;
        // jobs that never finish (a tiny speed) end the load after ten times the minimum
        while ((!done || seconds(t0) < minSeconds) && seconds(t0) < 10.0 * minSeconds) {
            Thread.sleep(1000);
            samples.add(sample(Math.round(seconds(t0))));
            done = done || allFinished();
        }
        double loadSeconds = seconds(t0);
        double serviceCpu = cpuSeconds() - cpuBefore;
        double[] machineAfter = machineCpuSeconds();
        String loadDuring = loadAverage();
        load.interrupt();
        load.join();
        senders.shutdown();
        senders.awaitTermination(30, TimeUnit.SECONDS);
        Thread.sleep(3000); // let finished jobs' threads and idle copier threads wind down
        long[] after = sample(Math.round(seconds(t0)));
        int sseMissed = 0;
        for (SseSubscriber s : subscribers) {
            sseMissed += jobs - s.completed.size();
            s.close();
        }
        machine = String.format(
                Locale.ROOT,
                "service CPU: %.1f s in %.0f s of load (%.2f cores); machine: idle %.0f %%, stolen by the"
                        + " host %.1f %%, load average before %s, at the end %s",
                serviceCpu,
                loadSeconds,
                serviceCpu / loadSeconds,
                100 * share(machineBefore, machineAfter, 3),
                100 * share(machineBefore, machineAfter, 7),
                loadBefore,
                loadDuring);
        return report(before, after, loadSeconds, sseMissed);
    }

    /**
     * Two seconds of GET /jobs and of the opened nodes at the planned rate, not measured: this
     * client's JIT, its connections and the service's request path are then warm.
     */
    private void warmUp() throws Exception {
        long end = System.nanoTime() + 2_000_000_000L;
        List<Future<?>> sent = new ArrayList<>();
        for (long i = 0; System.nanoTime() < end; i++) {
            LockSupport.parkNanos(1_000_000_000L / rate);
            String path = i % 5 == 4 ? "/jobs" : "/nodes/c" + (i % jobs);
            sent.add(senders.submit(() -> get(path, System.nanoTime(), new Latencies(), new Latencies())));
        }
        for (Future<?> f : sent) {
            f.get();
        }
    }

    /** Planned sends at {@code rate} per second: every fifth a GET /jobs, the others a job's GET. */
    private void load(long t0) {
        loadStart = t0;
        long period = 1_000_000_000L / rate;
        for (long i = 0; !Thread.currentThread().isInterrupted(); i++) {
            long planned = t0 + i * period;
            long wait = planned - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            boolean list = i % 5 == 4;
            String path = list ? "/jobs" : "/jobs/stream/s" + (i % jobs);
            senders.execute(
                    () -> get(path, planned, list ? listGets : statusGets, list ? listGetsSent : statusGetsSent));
        }
    }

    private void get(String path, long planned, Latencies fromPlanned, Latencies fromSent) {
        long sent = System.nanoTime();
        try {
            int status = connections.get().get(path);
            long now = System.nanoTime();
            fromPlanned.add(now - planned);
            fromSent.add(now - sent);
            noteWorst(planned, now - planned);
            if (status != 200) {
                fail("GET " + path + ": " + status);
            }
        } catch (IOException | RuntimeException e) {
            connections.get().close();
            long now = System.nanoTime();
            fromPlanned.add(now - planned);
            fromSent.add(now - sent);
            fail("GET " + path + ": " + e);
        }
    }

    private void noteWorst(long planned, long latency) {
        int second = (int) Math.min(worstBySecond.length() - 1, Math.max(0, (planned - loadStart) / 1_000_000_000L));
        worstBySecond.accumulateAndGet(second, latency, Math::max);
    }

    private boolean allFinished() throws Exception {
        for (int i = 0; i < jobs; i++) {
            JsonNode job = job(i);
            String status = job.get("status").asString();
            if (!status.equals("null") && !status.equals("concluded")) {
                return false;
            }
        }
        return true;
    }

    private JsonNode job(int i) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(base + "/jobs/stream/s" + i)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    private synchronized void fail(String what) {
        errors.incrementAndGet();
        if (errorSamples.size() < 5) {
            errorSamples.add(what);
        }
    }

    private int report(long[] before, long[] after, double loadSeconds, int sseMissed) throws Exception {
        System.out.printf(
                Locale.ROOT,
                "load: %d jobs, %d req/s planned (4/5 GET /jobs/stream/{id}, 1/5 GET /jobs), "
                        + "%d SSE subscribers, %.0f s%n",
                jobs,
                rate,
                sseClients,
                loadSeconds);
        long sent = statusGets.count() + listGets.count();
        System.out.printf(
                Locale.ROOT,
                "requests: %d answered, %.0f req/s achieved, errors %d%n",
                sent,
                sent / loadSeconds,
                errors.get());
        errorSamples.forEach(e -> System.out.println("  error: " + e));
        System.out.println("latency ms                                 p50     p90     p99   p99.9     max");
        statusGets.print("GET /jobs/stream/{id} (planned)");
        statusGetsSent.print("GET /jobs/stream/{id} (sent)");
        listGets.print("GET /jobs (planned)");
        listGetsSent.print("GET /jobs (sent)");
        printWorstSeconds(loadSeconds);
        System.out.println("job   result      MiB   seconds   MiB/s");
        int failedJobs = 0;
        double total = 0;
        for (int i = 0; i < jobs; i++) {
            JsonNode j = job(i);
            String result = j.path("result").isNull()
                    ? j.get("status").asString()
                    : j.get("result").asString();
            double mib = j.get("currentProgress").asLong() / 1048576.0;
            Instant end = j.get("finishedAt").isNull()
                    ? Instant.now()
                    : Instant.parse(j.get("finishedAt").asString());
            double secs = Duration.between(Instant.parse(j.get("createdAt").asString()), end)
                            .toMillis()
                    / 1000.0;
            total += mib;
            failedJobs += result.equals("completed") ? 0 : 1;
            System.out.printf(Locale.ROOT, "s%-4d %-9s %6.0f %9.2f %7.1f%n", i, result, mib, secs, mib / secs);
        }
        System.out.printf(Locale.ROOT, "all jobs: %.0f MiB streamed%n", total);
        System.out.printf(
                Locale.ROOT, "SSE: %d subscribers, completions missed %d (of %d each)%n", sseClients, sseMissed, jobs);
        long maxRss = samples.stream().mapToLong(s -> s[1]).max().orElse(0);
        long maxThreads = samples.stream().mapToLong(s -> s[2]).max().orElse(0);
        long[] mid = samples.isEmpty() ? after : samples.get(samples.size() / 2);
        System.out.println("service          RSS MiB   threads");
        System.out.printf(Locale.ROOT, "before           %7d   %7d%n", before[1] / 1024, before[2]);
        System.out.printf(Locale.ROOT, "during (t=%3ds)  %7d   %7d%n", mid[0], mid[1] / 1024, mid[2]);
        System.out.printf(Locale.ROOT, "during (max)     %7d   %7d%n", maxRss / 1024, maxThreads);
        System.out.printf(Locale.ROOT, "after            %7d   %7d%n", after[1] / 1024, after[2]);
        double p99 = statusGets.percentile(99) / 1e6;
        System.out.println(machine);
        System.out.printf(
                Locale.ROOT,
                "goals: status GET p99 %.1f ms (<= 20: %s), errors %d (0: %s)%n",
                p99,
                p99 <= 20 ? "met" : "MISSED",
                errors.get(),
                errors.get() == 0 ? "met" : "MISSED");
        return errors.get() == 0 && failedJobs == 0 && sseMissed == 0 ? 0 : 2;
    }

    /** {second, VmRSS in KiB, threads} of the service. */
    private long[] sample(long second) throws IOException {
        long rss = 0;
        long threads = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.replaceAll("\\D", ""));
            } else if (line.startsWith("Threads:")) {
                threads = Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return new long[] {second, rss, threads};
    }

    /** User and system CPU seconds of the service so far. */
    private double cpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // USER_HZ is 100 on Linux
    }

    /** The machine's CPU time by kind, the "cpu" line of /proc/stat (proc(5)): user, nice, system, idle, ... steal. */
    private static double[] machineCpuSeconds() throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
        return Arrays.stream(cpu.trim().split("\\s+"))
                .skip(1)
                .mapToDouble(Double::parseDouble)
                .toArray();
    }

    /** The share of kind {@code k} in the CPU time between two readings. */
    private static double share(double[] before, double[] after, int k) {
        double all = 0;
        for (int i = 0; i < Math.min(8, after.length); i++) {
            all += after[i] - before[i];
        }
        return all == 0 ? 0 : (after[k] - before[k]) / all;
    }

    private static String loadAverage() throws IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }

    /** The five seconds with the slowest GETs, and how many seconds had one slower than 20 ms. */
    private void printWorstSeconds(double loadSeconds) {
        int n = (int) Math.min(worstBySecond.length(), Math.ceil(loadSeconds));
        List<int[]> seconds = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            seconds.add(new int[] {i, (int) (worstBySecond.get(i) / 1_000_000)});
        }
        long over = seconds.stream().filter(s -> s[1] > 20).count();
        seconds.sort((a, b) -> Integer.compare(b[1], a[1]));
        StringBuilder worst = new StringBuilder();
        seconds.stream().limit(5).forEach(s -> worst.append(String.format(Locale.ROOT, " t=%ds %d ms,", s[0], s[1])));
        System.out.printf(
                Locale.ROOT,
                "slowest GET by second:%s %d of %d seconds had one over 20 ms%n",
                worst.toString().replaceAll(",$", ";"),
                over,
                n);
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Latencies in nanoseconds. */
    private static final class Latencies {
        private long[] values = new long[1 << 16];
        private int size;

        synchronized void add(long nanos) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = nanos;
        }

        synchronized long count() {
            return size;
        }

        synchronized long percentile(double p) {
            if (size == 0) {
                return 0;
            }
            long[] sorted = Arrays.copyOf(values, size);
            Arrays.sort(sorted);
            return sorted[(int) Math.min(size - 1, Math.ceil(p / 100 * size) - 1)];
        }

        void print(String name) {
            System.out.printf(
                    Locale.ROOT,
                    "%-40s %7.1f %7.1f %7.1f %7.1f %7.1f%n",
                    name,
                    percentile(50) / 1e6,
                    percentile(90) / 1e6,
                    percentile(99) / 1e6,
                    percentile(99.9) / 1e6,
                    percentile(100) / 1e6);
        }
    }

    /** One {@code /jobs/events} reader: the jobs whose BLOCK_JOB_COMPLETED it saw. */
    private static final class SseSubscriber {
        final Set<String> completed = ConcurrentHashMap.newKeySet();
        private final Thread reader;
        private final HttpResponse<Stream<String>> response;

        private SseSubscriber(HttpResponse<Stream<String>> response) {
            this.response = response;
            this.reader = new Thread(this::read, "sse");
            reader.setDaemon(true);
            reader.start();
        }

        static SseSubscriber open(HttpClient http, URI uri) throws Exception {
            HttpResponse<Stream<String>> r = http.send(
                    HttpRequest.newBuilder(uri)
                            .header("Accept", "text/event-stream")
                            .build(),
                    HttpResponse.BodyHandlers.ofLines());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET /jobs/events: " + r.statusCode());
            }
            return new SseSubscriber(r);
        }

        private void read() {
            String event = null;
            try (Stream<String> lines = response.body()) {
                for (String line : (Iterable<String>) lines::iterator) {
                    if (line.startsWith("event:")) {
                        event = line.substring(6).trim();
                    } else if (line.startsWith("data:") && "BLOCK_JOB_COMPLETED".equals(event)) {
                        completed.add(JSON.readTree(line.substring(5).trim())
                                .get("device")
                                .asString());
                    }
                }
            } catch (RuntimeException closed) {
                // the stream was closed
            }
        }

        void close() {
            response.body().close();
        }
    }
}
