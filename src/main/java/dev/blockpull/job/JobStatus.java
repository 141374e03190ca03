package dev.blockpull.job;

/** QEMU's {@code JobStatus}, in QEMU's order (the tables index by it), with QEMU's strings. */
public enum JobStatus {
    UNDEFINED("undefined"),
    CREATED("created"),
    RUNNING("running"),
    PAUSED("paused"),
    READY("ready"),
    STANDBY("standby"),
    WAITING("waiting"),
    PENDING("pending"),
    ABORTING("aborting"),
    CONCLUDED("concluded"),
    NULL("null");

    private final String qmpName;

    JobStatus(String qmpName) {
        this.qmpName = qmpName;
    }

    /** The name as QMP and the REST contract spell it, e.g. {@code running}. */
    public String qmpName() {
        return qmpName;
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
            if (s.qmpName.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("Unknown job status '" + name + "'");
    }

    @Override
    public String toString() {
        return qmpName;
    }
}
