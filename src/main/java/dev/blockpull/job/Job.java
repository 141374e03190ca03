package dev.blockpull.job;

/**
 * What a concrete job (the stream job) supplies; the scheduler supplies everything generic.
 * Mirrors QEMU's JobDriver for a job that is alone in its transaction:
 * {@code run}, then on success {@code prepare} → {@code commit}, on failure, cancel or a failing
 * prepare {@code abort}, and always {@code clean}, in that order, each at most once.
 * <p>
 * {@code run} executes on the job's own thread. Completion hooks run on the job thread too, except
 * when a user verb triggers them (finalize, or cancel of a job waiting in {@code pending}); then
 * they run on the caller's thread, as QMP runs them in the monitor. Never two at once.
 */
public interface Job {

    /** QEMU's job type, e.g. {@code stream}; shown in views and events. */
    String type();

    /**
     * The job's {@code error} text for {@code failure}, shown to API users in views and events.
     * A job whose failures may name files overrides it to keep host paths out of them.
     */
    default String errorText(Throwable failure) {
        return ErrorTexts.of(failure);
    }

    /**
     * The job's work. Returns normally on success. Throws on failure: the scheduler turns the
     * exception into the job's {@code error} ({@link ErrorTexts}). Must call
     * {@link JobContext#pausePoint()} regularly with no I/O in flight; it throws
     * {@link JobCancelledException} once the job is cancelled, which may simply propagate.
     */
    void run(JobContext context) throws Exception;

    /**
     * Graph changes that make the result permanent (stream: drop the filter, re-point the backing
     * link, rewrite the header). A throw fails the job, which then goes through {@link #abort}.
     */
    default void prepare() throws Exception {}

    /** Success after prepare; cannot fail. */
    default void commit() {}

    /** Failure, cancel or failed prepare; undoes what it can; cannot fail. */
    default void abort() {}

    /** Always last: releases what the job holds (filter, permissions, read-only restore). */
    default void clean() {}

    /**
     * QEMU's JobDriver.cancel: returns whether the cancel is forced. Jobs without a soft cancel
     * (stream) are always forced, which is the default.
     */
    default boolean cancel(boolean force) {
        return true;
    }

    /** Whether {@link #complete()} means anything (jobs that reach {@code ready}); stream: no. */
    default boolean supportsComplete() {
        return false;
    }

    /** QEMU's JobDriver.complete, for jobs that {@link #supportsComplete()}. */
    default void complete() {}
}
