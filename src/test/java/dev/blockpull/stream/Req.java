package dev.blockpull.stream;

import dev.blockpull.job.OnErrorPolicy;
import org.jspecify.annotations.Nullable;

/** A fluent {@link StreamRequest} for tests. */
final class Req {

    private @Nullable String jobId;
    private final String device;
    private @Nullable String base;
    private @Nullable String baseNode;
    private @Nullable String bottom;
    private @Nullable String backingFile;
    private long speed;
    private OnErrorPolicy onError = OnErrorPolicy.REPORT;
    private @Nullable String filterNodeName;
    private boolean autoFinalize = true;
    private boolean autoDismiss = true;

    private Req(String device) {
        this.device = device;
    }

    static Req device(String device) {
        return new Req(device);
    }

    Req id(@Nullable String id) {
        jobId = id;
        return this;
    }

    Req base(String file) {
        base = file;
        return this;
    }

    Req baseNode(String node) {
        baseNode = node;
        return this;
    }

    Req bottom(String node) {
        bottom = node;
        return this;
    }

    Req backingFile(String name) {
        backingFile = name;
        return this;
    }

    Req speed(long bytesPerSecond) {
        speed = bytesPerSecond;
        return this;
    }

    Req onError(OnErrorPolicy policy) {
        onError = policy;
        return this;
    }

    Req filter(String name) {
        filterNodeName = name;
        return this;
    }

    Req manualFinalize() {
        autoFinalize = false;
        return this;
    }

    Req manualDismiss() {
        autoDismiss = false;
        return this;
    }

    StreamRequest build() {
        return new StreamRequest(
                jobId,
                device,
                base,
                baseNode,
                bottom,
                backingFile,
                speed,
                onError,
                filterNodeName,
                autoFinalize,
                autoDismiss);
    }
}
