package dev.blockpull.api.job;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/** Reads {@code /jobs/stream}'s SSE with java.net.http on a background thread: events and comments. */
final class SseClient implements AutoCloseable {

    record Event(long id, String name, String data) {}

    final List<Event> events = new CopyOnWriteArrayList<>();
    final List<String> comments = new CopyOnWriteArrayList<>();
    final HttpResponse<Stream<String>> response;
    private final CompletableFuture<Void> reader;

    private SseClient(HttpResponse<Stream<String>> response) {
        this.response = response;
        this.reader = CompletableFuture.runAsync(this::read);
    }

    static SseClient open(int port, @Nullable Long lastEventId) throws Exception {
        return open(port, lastEventId, "");
    }

    /** With a query such as {@code "?jobId=s1"}. */
    static SseClient open(int port, @Nullable Long lastEventId, String query) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/jobs/events" + query))
                .header("Accept", "text/event-stream")
                .timeout(Duration.ofSeconds(30));
        if (lastEventId != null) {
            request.header("Last-Event-ID", Long.toString(lastEventId));
        }
        HttpResponse<Stream<String>> response =
                HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofLines());
        return new SseClient(response);
    }

    private void read() {
        Long id = null;
        String name = null;
        StringBuilder data = new StringBuilder();
        try (Stream<String> lines = response.body()) {
            for (String line : (Iterable<String>) lines::iterator) {
                if (line.isEmpty()) {
                    if (name != null) {
                        events.add(new Event(id == null ? -1 : id, name, data.toString()));
                    }
                    id = null;
                    name = null;
                    data.setLength(0);
                } else if (line.startsWith(":")) {
                    comments.add(line.substring(1).trim());
                } else if (line.startsWith("id:")) {
                    id = Long.parseLong(line.substring(3).trim());
                } else if (line.startsWith("event:")) {
                    name = line.substring(6).trim();
                } else if (line.startsWith("data:")) {
                    data.append(line.substring(5).trim());
                }
            }
        } catch (RuntimeException closed) {
            // the stream ended or was closed by close()
        }
    }

    /** Status changes of one job, in the order received. */
    List<String> statusesOf(String jobId) {
        return events.stream()
                .filter(e -> e.name().equals("JOB_STATUS_CHANGE"))
                .filter(e -> e.data().contains("\"id\":\"" + jobId + "\""))
                .map(e -> e.data().replaceAll(".*\"status\":\"([a-z]+)\".*", "$1"))
                .toList();
    }

    /** Events of one job but JOB_PROGRESS, whose number depends on timing. */
    List<Event> eventsOf(String jobId) {
        return events.stream()
                .filter(e -> e.data().contains("\"" + jobId + "\""))
                .filter(e -> !e.name().equals("JOB_PROGRESS"))
                .toList();
    }

    /** JOB_PROGRESS events of one job. */
    List<Event> progressOf(String jobId) {
        return events.stream()
                .filter(e -> e.name().equals("JOB_PROGRESS"))
                .filter(e -> e.data().contains("\"id\":\"" + jobId + "\""))
                .toList();
    }

    @Override
    public void close() {
        reader.cancel(true);
        try {
            response.body().close();
        } catch (RuntimeException ignored) {
            // already closed
        }
    }
}
