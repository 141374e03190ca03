package dev.blockpull.job;

/** QEMU's {@code JobVerb}: the commands a user may send to a job, with QEMU's strings. */
public enum JobVerb {
    CANCEL("cancel"),
    PAUSE("pause"),
    RESUME("resume"),
    SET_SPEED("set-speed"),
    COMPLETE("complete"),
    FINALIZE("finalize"),
    DISMISS("dismiss"),
    CHANGE("change");

    private final String qmpName;

    JobVerb(String qmpName) {
        this.qmpName = qmpName;
    }

    public String qmpName() {
        return qmpName;
    }

    @Override
    public String toString() {
        return qmpName;
    }
}
