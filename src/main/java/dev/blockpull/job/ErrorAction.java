package dev.blockpull.job;

/** QEMU's BlockErrorAction: what a job does about one I/O error (the {@code action} of BLOCK_JOB_ERROR). */
public enum ErrorAction {
    /** End the loop; the job fails with this error. */
    REPORT("report"),
    /** Remember the first error, count the chunk as done, go on; the job fails at the end. */
    IGNORE("ignore"),
    /** The job is user-paused with its ioStatus set; after resume the same chunk is retried. */
    STOP("stop");

    private final String qmpName;

    ErrorAction(String qmpName) {
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
