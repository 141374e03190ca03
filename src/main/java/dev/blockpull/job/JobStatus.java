package dev.blockpull.job;

/** QEMU's {@code JobStatus}, in QEMU's order (the tables index by it), with QEMU's strings. */
public enum JobStatus {
    UNDEFINED,
    CREATED,
    RUNNING,
    PAUSED,
    READY,
    STANDBY,
    WAITING,
    PENDING,
    ABORTING,
    CONCLUDED,
    NULL;

    /** The name as QMP and the REST contract spell it, e.g. {@code running}. */
    public String qmpName() {
        return QmpNames.of(this);
    }

    /**
     * QEMU's job_is_completed: the job's run has returned, only completion (or nothing) is left.
     * Such a job counts as quiescent for drains, as in QEMU, because completion itself drains.
     */
    public boolean isCompleted() {
        return ordinal() >= WAITING.ordinal();
    }

    /** Parses a QMP status name; unknown names are an {@link IllegalArgumentException}. */
    public static JobStatus fromQmpName(String name) {
        for (JobStatus s : values()) {
            if (s.qmpName().equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("Unknown job status '" + name + "'");
    }

    @Override
    public String toString() {
        return QmpNames.of(this);
    }
}
