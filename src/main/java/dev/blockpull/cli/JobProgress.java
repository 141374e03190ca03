package dev.blockpull.cli;

import java.util.Locale;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/** Where a followed job stands, as the displays show it. */
record JobProgress(
        String id,
        String status,
        long offset,
        long len,
        long bytesPerSecond,
        @Nullable Long etaSeconds) {

    static JobProgress of(JsonNode job) {
        JsonNode eta = job.path("etaSeconds");
        return new JobProgress(
                job.path("id").asString(),
                job.path("status").asString(),
                job.path("currentProgress").asLong(),
                job.path("totalProgress").asLong(),
                job.path("bytesPerSecond").asLong(),
                eta.isNumber() ? eta.asLong() : null);
    }

    /** A JOB_PROGRESS payload: offset, len, bytesPerSecond, etaSeconds. */
    JobProgress withProgress(JsonNode event) {
        JsonNode eta = event.path("etaSeconds");
        return new JobProgress(
                id,
                status,
                event.path("offset").asLong(),
                event.path("len").asLong(),
                event.path("bytesPerSecond").asLong(),
                eta.isNumber() ? eta.asLong() : null);
    }

    JobProgress withStatus(String newStatus) {
        return new JobProgress(id, newStatus, offset, len, bytesPerSecond, etaSeconds);
    }

    int percent() {
        return len <= 0 ? 0 : (int) Math.min(100, offset * 100 / len);
    }

    /** {@code 45%  12.3 MiB/s  ETA 0:12}; rate and ETA only while running and known. */
    String figures() {
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "%3d%%", percent()));
        if (!"running".equals(status)) {
            return text.toString();
        }
        if (bytesPerSecond > 0) {
            text.append("  ").append(Sizes.human(bytesPerSecond)).append("/s");
        }
        if (etaSeconds != null) {
            text.append(String.format(Locale.ROOT, "  ETA %d:%02d", etaSeconds / 60, etaSeconds % 60));
        }
        return text.toString();
    }
}
