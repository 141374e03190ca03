package dev.blockpull.job;

/** How a concluded job ended: the contract's {@code result} (QEMU tells it by event and error). */
public enum JobResult {
    COMPLETED,
    CANCELLED,
    FAILED;

    public String apiName() {
        return QmpNames.of(this);
    }

    @Override
    public String toString() {
        return QmpNames.of(this);
    }
}
