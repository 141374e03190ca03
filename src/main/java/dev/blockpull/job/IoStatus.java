package dev.blockpull.job;

/** QEMU's BlockDeviceIoStatus of a job: set by an error that stopped it, reset by resume. */
public enum IoStatus {
    OK("ok"),
    FAILED("failed"),
    NOSPACE("nospace");

    private final String qmpName;

    IoStatus(String qmpName) {
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
