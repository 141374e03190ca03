package dev.blockpull.job;

/** QEMU's BlockdevOnError: a job's {@code on-error} argument. */
public enum OnErrorPolicy {
    REPORT,
    IGNORE,
    STOP,
    /** Stop on ENOSPC (space can be freed and the job resumed), report anything else. */
    ENOSPC,
    /** For jobs QEMU treats {@code auto} exactly like {@code enospc}. */
    AUTO;

    public String qmpName() {
        return QmpNames.of(this);
    }

    /** QEMU's block_job_error_action decision, without its side effects. */
    public ErrorAction decide(boolean noSpace) {
        switch (this) {
            case REPORT:
                return ErrorAction.REPORT;
            case IGNORE:
                return ErrorAction.IGNORE;
            case STOP:
                return ErrorAction.STOP;
            default:
                return noSpace ? ErrorAction.STOP : ErrorAction.REPORT;
        }
    }

    /** Parses a QMP name; unknown names are an {@link IllegalArgumentException}. */
    public static OnErrorPolicy fromQmpName(String name) {
        for (OnErrorPolicy p : values()) {
            if (p.qmpName().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("Unknown on-error policy '" + name + "'");
    }

    @Override
    public String toString() {
        return QmpNames.of(this);
    }
}
