package dev.blockpull.job;

/** How a concluded job ended: the contract's {@code result} (QEMU tells it by event and error). */
public enum JobResult {
    COMPLETED("completed"),
    CANCELLED("cancelled"),
    FAILED("failed");

    private final String apiName;

    JobResult(String apiName) {
        this.apiName = apiName;
    }

    public String apiName() {
        return apiName;
    }

    @Override
    public String toString() {
        return apiName;
    }
}
