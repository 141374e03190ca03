package dev.blockpull.job;

/** QEMU's BlockErrorAction: what a job does about one I/O error (the {@code action} of BLOCK_JOB_ERROR). */
public enum ErrorAction {
    /** End the loop; the job fails with this error. */
    REPORT,
    /** Remember the first error, count the chunk as done, go on; the job fails at the end. */
    IGNORE,
    /** The job is user-paused with its ioStatus set; after resume the same chunk is retried. */
    STOP;

    public String qmpName() {
        return QmpNames.of(this);
    }

    @Override
    public String toString() {
        return QmpNames.of(this);
    }
}
