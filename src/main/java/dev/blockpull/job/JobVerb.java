package dev.blockpull.job;

/** QEMU's {@code JobVerb}: the commands a user may send to a job, with QEMU's strings. */
public enum JobVerb {
    CANCEL,
    PAUSE,
    RESUME,
    SET_SPEED,
    COMPLETE,
    FINALIZE,
    DISMISS,
    CHANGE;

    public String qmpName() {
        return QmpNames.of(this);
    }

    @Override
    public String toString() {
        return QmpNames.of(this);
    }
}
