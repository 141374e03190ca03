package dev.blockpull.cli;

import java.util.Iterator;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/** Server-Sent Events read line by line from an open {@code /jobs/events} answer. */
final class EventStream implements AutoCloseable {

    /** One event: its name and JSON payload. */
    record Event(String name, JsonNode data) {}

    private final Stream<String> lines;
    private final Iterator<String> iterator;

    EventStream(Stream<String> lines) {
        this.lines = lines;
        this.iterator = lines.iterator();
    }

    /** The next event, or null once the server closed the stream. Comment lines are skipped. */
    @Nullable
    Event next() {
        String name = null;
        StringBuilder data = new StringBuilder();
        while (iterator.hasNext()) {
            String line = iterator.next();
            if (line.isEmpty()) {
                if (name != null) {
                    return new Event(name, ApiClient.JSON.readTree(data.toString()));
                }
                data.setLength(0);
            } else if (line.startsWith("event:")) {
                name = line.substring(6).trim();
            } else if (line.startsWith("data:")) {
                data.append(line.substring(5).trim());
            }
        }
        return null;
    }

    @Override
    public void close() {
        lines.close();
    }
}
