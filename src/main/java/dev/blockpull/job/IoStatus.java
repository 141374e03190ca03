package dev.blockpull.job;

/** QEMU's BlockDeviceIoStatus of a job: set by an error that stopped it, reset by resume. */
public enum IoStatus {
    OK,
    FAILED,
    NOSPACE;

    public String qmpName() {
        return QmpNames.of(this);
    }

    @Override
    public String toString() {
        return QmpNames.of(this);
    }
}
