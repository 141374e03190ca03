package dev.blockpull.job;

/** QEMU's IoOperationType: the {@code operation} of BLOCK_JOB_ERROR. */
public enum IoOperation {
    READ,
    WRITE;

    public String qmpName() {
        return QmpNames.of(this);
    }

    @Override
    public String toString() {
        return QmpNames.of(this);
    }
}
