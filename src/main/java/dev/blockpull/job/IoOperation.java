package dev.blockpull.job;

/** QEMU's IoOperationType: the {@code operation} of BLOCK_JOB_ERROR. */
public enum IoOperation {
    READ("read"),
    WRITE("write");

    private final String qmpName;

    IoOperation(String qmpName) {
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
