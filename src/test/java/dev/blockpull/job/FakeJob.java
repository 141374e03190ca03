package dev.blockpull.job;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A job shaped like the stream loop: per chunk a pause point, then the {@link StepGate}, then the
 * "copy" (an injected fault or progress plus rate-limit accounting). Records its hooks in order.
 */
final class FakeJob implements Job {

    final StepGate gate = new StepGate();
    final List<String> hooks = new CopyOnWriteArrayList<>();
    private final int chunks;
    private final long chunkSize;
    private final Map<Integer, ArrayDeque<Throwable>> faults = new ConcurrentHashMap<>();
    private volatile RuntimeException prepareFailure;
    private volatile java.util.function.Function<Throwable, String> errorText = ErrorTexts::of;
    private volatile Runnable cancelHook = () -> {};
    volatile int chunksDone;

    FakeJob(int chunks, long chunkSize) {
        this.chunks = chunks;
        this.chunkSize = chunkSize;
    }

    /** Chunk {@code index} fails once with {@code error} (queued: several calls fail several tries). */
    FakeJob failChunk(int index, Throwable error) {
        faults.computeIfAbsent(index, i -> new ArrayDeque<>()).addLast(error);
        return this;
    }

    FakeJob failPrepare(RuntimeException e) {
        prepareFailure = e;
        return this;
    }

    /** Words failures like this instead of the default {@link ErrorTexts}. */
    FakeJob wordErrorsWith(java.util.function.Function<Throwable, String> wording) {
        errorText = wording;
        return this;
    }

    /** Runs {@code hook} inside the job's cancel hook (QEMU's JobDriver.cancel). */
    FakeJob onCancel(Runnable hook) {
        cancelHook = hook;
        return this;
    }

    @Override
    public String type() {
        return "stream";
    }

    @Override
    public String errorText(Throwable failure) {
        return errorText.apply(failure);
    }

    @Override
    public void run(JobContext context) throws Exception {
        context.setProgressRemaining(chunks * chunkSize);
        Throwable firstError = null;
        for (int i = 0; i < chunks; ) {
            context.pausePoint();
            gate.pass();
            ArrayDeque<Throwable> pending = faults.get(i);
            Throwable fault;
            synchronized (this) {
                fault = pending == null ? null : pending.pollFirst();
            }
            if (fault != null) {
                ErrorAction action = context.handleError(fault, IoOperation.READ);
                if (action == ErrorAction.STOP) {
                    continue;
                }
                if (firstError == null) {
                    firstError = fault;
                }
                if (action == ErrorAction.REPORT) {
                    break;
                }
            } else {
                context.rateLimitAccount(chunkSize);
            }
            context.addProgress(chunkSize);
            chunksDone = ++i;
        }
        if (firstError instanceof Exception) {
            throw (Exception) firstError;
        }
    }

    @Override
    public void prepare() {
        hooks.add("prepare");
        if (prepareFailure != null) {
            throw prepareFailure;
        }
    }

    @Override
    public void commit() {
        hooks.add("commit");
    }

    @Override
    public void abort() {
        hooks.add("abort");
    }

    @Override
    public void clean() {
        hooks.add("clean");
    }

    @Override
    public boolean cancel(boolean force) {
        cancelHook.run();
        return true;
    }
}
