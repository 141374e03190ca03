package dev.blockpull.api.job;

import com.fasterxml.jackson.annotation.JsonValue;
import dev.blockpull.job.OnErrorPolicy;
import dev.blockpull.stream.StreamRequest;
import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import org.jspecify.annotations.Nullable;

/**
 * Body of {@code POST /jobs/stream}: the arguments of QMP's block-stream in camelCase.
 * <p>
 * Here only what QAPI's parser refuses before block-stream runs: a missing device, a wrong type, an
 * unknown on-error value, unknown members (400 each). Job id syntax, negative speed and filter
 * names are deliberately not Bean Validation constraints: the contract wants failures in QEMU's
 * order (stream-semantics §2.1), where they come after the device and base checks (steps 12-13),
 * so the stream and job floors check them, with QEMU's messages. The schema still documents them.
 */
@Schema(name = "StartStreamRequest", description = "block-stream arguments")
record StartStreamRequest(
        @Schema(
                description = "Job id; default: the device node name. A letter, then letters, digits, '-', '.', '_'",
                example = "s1",
                pattern = "^[A-Za-z][A-Za-z0-9_.-]*$",
                maxLength = MAX_ID)
        @Size(max = MAX_ID, message = "must be at most " + MAX_ID + " characters")
        @Nullable
        String jobId,

        @Schema(description = "Node to stream into", example = "top", requiredMode = Schema.RequiredMode.REQUIRED)
        @NotNull(message = "Parameter 'device' is missing")
        @Size(max = MAX_ID, message = "must be at most " + MAX_ID + " characters")
        @Nullable
        String device,

        @Schema(
                description = "Base image by file name (relative to the data root; deprecated in QMP). At most one "
                        + "of base, baseNode, bottom",
                example = "vm1/base.qcow2")
        @Size(max = 4096)
        @Nullable
        String base,

        @Schema(description = "Base by node name: it and everything below it stay", example = "base")
        @Size(max = MAX_ID, message = "must be at most " + MAX_ID + " characters")
        @Nullable
        String baseNode,

        @Schema(description = "Lowest node to copy from (a non-filter node in the chain)", example = "mid")
        @Size(max = MAX_ID, message = "must be at most " + MAX_ID + " characters")
        @Nullable
        String bottom,

        @Schema(
                description = "Backing file string written into the device's header; only with a base",
                example = "base.qcow2")
        @Size(max = 1023)
        @Nullable
        String backingFile,

        @Schema(description = "Rate limit in bytes per second, 0 = unlimited", example = "0", minimum = "0") @Nullable
        Long speed,

        @Schema(description = "What an I/O error does; default report", example = "report") @Nullable
        OnError onError,

        @Schema(
                description = "Name of the copy-on-read filter; default: an implicit generated name",
                example = "cor1",
                pattern = "^[A-Za-z][A-Za-z0-9_.-]{0,30}$")
        @Size(max = MAX_ID, message = "must be at most " + MAX_ID + " characters")
        @Nullable
        String filterNodeName,

        @Schema(description = "false: wait in 'pending' for POST .../finalize; default true") @Nullable
        Boolean autoFinalize,

        @Schema(description = "false: stay 'concluded' until POST .../dismiss; default true") @Nullable
        Boolean autoDismiss) {

    /**
     * Longest job id and node name taken. QEMU has no limit; one is needed here, or a 10,000
     * character id ends up in a Location header longer than the server will send.
     */
    static final int MAX_ID = 128;

    StreamRequest toStreamRequest() {
        return new StreamRequest(
                jobId,
                device == null ? "" : device,
                base,
                baseNode,
                bottom,
                backingFile,
                speed == null ? 0 : speed,
                onError == null ? OnErrorPolicy.REPORT : onError.policy,
                filterNodeName,
                autoFinalize == null || autoFinalize,
                autoDismiss == null || autoDismiss);
    }

    /** block-stream's on-error values. */
    @Schema(name = "OnError")
    enum OnError {
        REPORT(OnErrorPolicy.REPORT),
        IGNORE(OnErrorPolicy.IGNORE),
        STOP(OnErrorPolicy.STOP),
        ENOSPC(OnErrorPolicy.ENOSPC);

        private final OnErrorPolicy policy;

        OnError(OnErrorPolicy policy) {
            this.policy = policy;
        }

        @JsonValue
        String qmpName() {
            return policy.qmpName();
        }

        @Override
        public String toString() {
            return policy.qmpName();
        }
    }
}
