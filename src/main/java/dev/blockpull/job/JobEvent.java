package dev.blockpull.job;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The QMP events a job emits, with QEMU's payloads. {@link #name()} is the QMP event name (the
 * SSE {@code event:} field) and {@link #data()} the payload with QMP's member names, ready to be
 * written as JSON. In BLOCK_JOB_* events {@code device} is the job id, as in QEMU.
 */
public sealed interface JobEvent
        permits JobEvent.JobStatusChange,
                JobEvent.BlockJobCompleted,
                JobEvent.BlockJobCancelled,
                JobEvent.BlockJobError,
                JobEvent.BlockJobPending,
                JobEvent.BlockJobReady,
                JobEvent.JobProgress {

    /** Every event name, for filters; JOB_PROGRESS is Blockpull's own, the others are QMP's. */
    List<String> NAMES = List.of(
            "JOB_STATUS_CHANGE",
            "BLOCK_JOB_COMPLETED",
            "BLOCK_JOB_CANCELLED",
            "BLOCK_JOB_ERROR",
            "BLOCK_JOB_PENDING",
            "BLOCK_JOB_READY",
            JobProgress.NAME);

    /** QMP event name, e.g. {@code JOB_STATUS_CHANGE}. */
    String name();

    /** The job the event is about. */
    String jobId();

    /** The payload in QMP's member names and order; enums as their QMP strings. */
    Map<String, Object> data();

    /** Every status change. */
    record JobStatusChange(String id, JobStatus status) implements JobEvent {
        public String name() {
            return "JOB_STATUS_CHANGE";
        }

        public String jobId() {
            return id;
        }

        public Map<String, Object> data() {
            return payload("id", id, "status", status.qmpName());
        }
    }

    /** Finalization of a job that was not cancelled; {@code error} present when it failed. */
    record BlockJobCompleted(
            String type,
            String device,
            long len,
            long offset,
            long speed,
            @Nullable String error) implements JobEvent {
        public String name() {
            return "BLOCK_JOB_COMPLETED";
        }

        public String jobId() {
            return device;
        }

        public Map<String, Object> data() {
            Map<String, Object> data =
                    payload("type", type, "device", device, "len", len, "offset", offset, "speed", speed);
            if (error != null) {
                data.put("error", error);
            }
            return data;
        }
    }

    /** Finalization of a cancelled job. */
    record BlockJobCancelled(String type, String device, long len, long offset, long speed) implements JobEvent {
        public String name() {
            return "BLOCK_JOB_CANCELLED";
        }

        public String jobId() {
            return device;
        }

        public Map<String, Object> data() {
            return payload("type", type, "device", device, "len", len, "offset", offset, "speed", speed);
        }
    }

    /** One I/O error handled by the on-error policy. */
    record BlockJobError(String device, IoOperation operation, ErrorAction action) implements JobEvent {
        public String name() {
            return "BLOCK_JOB_ERROR";
        }

        public String jobId() {
            return device;
        }

        public Map<String, Object> data() {
            return payload("device", device, "operation", operation.qmpName(), "action", action.qmpName());
        }
    }

    /** Entering {@code pending} with auto-finalize off. */
    record BlockJobPending(String type, String id) implements JobEvent {
        public String name() {
            return "BLOCK_JOB_PENDING";
        }

        public String jobId() {
            return id;
        }

        public Map<String, Object> data() {
            return payload("type", type, "id", id);
        }
    }

    /** Entering {@code ready} (never for stream). */
    record BlockJobReady(String type, String device, long len, long offset, long speed) implements JobEvent {
        public String name() {
            return "BLOCK_JOB_READY";
        }

        public String jobId() {
            return device;
        }

        public Map<String, Object> data() {
            return payload("type", type, "device", device, "len", len, "offset", offset, "speed", speed);
        }
    }

    /**
     * Blockpull's own event (QMP has none): where a running job stands, published at most once per
     * progress interval. Newer ones supersede older ones, so the replay ring keeps only the latest
     * of each job and a busy job never pushes status changes out of it.
     *
     * @param etaSeconds null while the rate or the total is not known
     */
    record JobProgress(
            String id,
            long offset,
            long len,
            long bytesPerSecond,
            @Nullable Long etaSeconds) implements JobEvent {

        static final String NAME = "JOB_PROGRESS";

        public String name() {
            return NAME;
        }

        public String jobId() {
            return id;
        }

        public Map<String, Object> data() {
            Map<String, Object> data =
                    payload("id", id, "offset", offset, "len", len, "bytesPerSecond", bytesPerSecond);
            data.put("etaSeconds", etaSeconds);
            return data;
        }
    }

    private static Map<String, Object> payload(Object... keysAndValues) {
        Map<String, Object> data = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            data.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return data;
    }
}
