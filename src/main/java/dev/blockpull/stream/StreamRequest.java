package dev.blockpull.stream;

import dev.blockpull.job.OnErrorPolicy;
import org.jspecify.annotations.Nullable;

/**
 * The arguments of QMP's {@code block-stream}, as {@code POST /jobs/stream} carries them
 * (stream-semantics §2; api.md "Jobs").
 *
 * @param jobId          job id; null means the device node name
 * @param device         node to stream into
 * @param base           base image by file name (relative to the data root)
 * @param baseNode       base by node name; at most one of base / baseNode
 * @param bottom         lowest node to copy from; excludes base, baseNode and backingFile
 * @param backingFile    string to write into the top image's header; null = derived from base
 * @param speed          bytes per second, 0 = unlimited
 * @param onError        report, ignore, stop or enospc
 * @param filterNodeName name of the copy-on-read filter; null = implicit
 * @param autoFinalize   finalize without waiting for job-finalize
 * @param autoDismiss    dismiss without waiting for job-dismiss
 */
public record StreamRequest(
        @Nullable String jobId,
        String device,
        @Nullable String base,
        @Nullable String baseNode,
        @Nullable String bottom,
        @Nullable String backingFile,
        long speed,
        OnErrorPolicy onError,
        @Nullable String filterNodeName,
        boolean autoFinalize,
        boolean autoDismiss) {

    /** Defaults of block-stream: whole chain into {@code device}, unlimited, report errors, auto everything. */
    public static StreamRequest of(String device) {
        return new StreamRequest(null, device, null, null, null, null, 0, OnErrorPolicy.REPORT, null, true, true);
    }
}
