package dev.blockpull.stream;

import dev.blockpull.graph.Attachment;
import dev.blockpull.job.ErrorAction;
import dev.blockpull.job.IoOperation;
import dev.blockpull.job.JobContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.LongSupplier;

/**
 * The run loop of stream-semantics §3. Each iteration starts at a pause point (the rate-limit
 * sleep, pause and cancel), with nothing of this job in flight; then it plans a few chunks and
 * copies the ones to copy, several at once when not rate limited (design.md: copies in flight),
 * each as a copy-on-read prefetch through the job's attachment to its filter (§3.2), so that a
 * guest write that landed meanwhile is never overwritten. Results are then taken in offset order,
 * exactly as QEMU's sequential loop takes them: progress, rate-limit accounting for copies only,
 * and the on-error policy for the first failed chunk (stop: retry from it after resume; report:
 * fail with it; ignore: count it and go on, fail at the end).
 */
final class CopyLoop {

    private static final Logger log = LoggerFactory.getLogger(CopyLoop.class);

    private final Attachment attachment;
    private final ChunkPlanner planner;
    private final long length;
    private final StreamSettings settings;
    private final ExecutorService copiers;
    private final LongSupplier speed;
    private final CopyMeters.Job meters;
    private final ChunkBatch batch;
    private final Future<?>[] futures;
    private final int[] runStart;
    private final int[] runEnd;

    CopyLoop(Attachment attachment, ChunkPlanner planner, long length, StreamSettings settings,
             ExecutorService copiers, LongSupplier speed, CopyMeters.Job meters) {
        this.attachment = attachment;
        this.planner = planner;
        this.length = length;
        this.settings = settings;
        this.copiers = copiers;
        this.speed = speed;
        this.meters = meters;
        this.batch = new ChunkBatch(settings.maxPlanned());
        this.futures = new Future<?>[settings.maxPlanned()];
        this.runStart = new int[settings.maxPlanned()];
        this.runEnd = new int[settings.maxPlanned()];
    }

    /** Runs to the end; throws the first error (report, or ignored ones) or JobCancelledException. */
    void run(JobContext context) {
        context.setProgressRemaining(length);
        RuntimeException firstError = null;
        long offset = 0;
        long copied = 0;
        iterations:
        while (offset < length) {
            context.pausePoint();
            boolean throttled = speed.getAsLong() > 0;
            planner.plan(offset, throttled ? 1 : settings.plannedCopies(), batch);
            copyAll(throttled ? settings.chunkSize() : settings.mergedCopySize());
            for (int i = 0; i < batch.size; i++) {
                RuntimeException error = batch.errors[i];
                if (error != null) {
                    ErrorAction action = context.handleError(error, IoOperation.READ);
                    log.debug("Chunk at {} failed ({}): {}", batch.offsets[i], action, error.toString());
                    if (action == ErrorAction.STOP) {
                        offset = batch.offsets[i];
                        continue iterations; // paused at the next pause point; this chunk is retried
                    }
                    if (firstError == null) {
                        firstError = error;
                    }
                    if (action == ErrorAction.REPORT) {
                        break iterations;
                    }
                }
                long n = batch.lengths[i];
                context.addProgress(n);
                if (batch.copy[i]) {
                    context.rateLimitAccount(n);
                    if (error == null) {
                        meters.copied(n);
                        copied += n;
                    }
                }
                offset = batch.end(i);
            }
        }
        log.debug("Copy loop ended at {} of {} after copying {} bytes", offset, length, copied);
        if (firstError != null) {
            throw firstError;
        }
    }

    /**
     * Copies the batch's copy chunks, adjacent ones merged into runs of at most {@code mergeLimit}
     * bytes: the last run on this thread, the others on the copiers; waits for all.
     */
    private void copyAll(int mergeLimit) {
        int runs = 0;
        for (int i = 0; i < batch.size; ) {
            if (!batch.copy[i] || batch.errors[i] != null) {
                i++;
                continue;
            }
            int j = i + 1;
            while (j < batch.size && batch.copy[j] && batch.errors[j] == null && batch.offsets[j] == batch.end(j - 1)
                    && batch.end(j) - batch.offsets[i] <= mergeLimit) {
                j++;
            }
            runStart[runs] = i;
            runEnd[runs] = j;
            runs++;
            i = j;
        }
        if (runs == 0) {
            return;
        }
        @Nullable Map<String, String> mdc = runs > 1 ? MDC.getCopyOfContextMap() : null;
        for (int r = 0; r < runs - 1; r++) {
            int first = runStart[r];
            int last = runEnd[r];
            futures[r] = copiers.submit(() -> copyWithMdc(first, last, mdc));
        }
        copyRun(runStart[runs - 1], runEnd[runs - 1]);
        for (int r = 0; r < runs - 1; r++) {
            Future<?> f = futures[r];
            futures[r] = null;
            await(f, runStart[r]);
        }
    }

    private void copyWithMdc(int first, int last, @Nullable Map<String, String> mdc) {
        if (mdc != null) {
            MDC.setContextMap(mdc);
        }
        try {
            copyRun(first, last);
        } finally {
            MDC.clear();
        }
    }

    /**
     * Copies chunks {@code [first, last)} with one prefetch; if that fails, copies them one by one
     * so that each error belongs to the chunk that met it (QEMU's 512 KiB granularity). Copying
     * twice is harmless: copy-on-read only fills what the top still lacks.
     */
    private void copyRun(int first, int last) {
        if (last - first > 1) {
            try {
                prefetch(batch.offsets[first], batch.end(last - 1) - batch.offsets[first]);
                return;
            } catch (RuntimeException e) {
                log.debug("Merged copy of chunks at {}..{} failed, retrying chunk by chunk: {}",
                        batch.offsets[first], batch.end(last - 1), e.toString());
            }
        }
        for (int i = first; i < last; i++) {
            try {
                prefetch(batch.offsets[i], batch.lengths[i]);
            } catch (RuntimeException e) {
                batch.errors[i] = e;
            }
        }
    }

    /** One copy request, timed for the chunk copy latency metric (failed ones too). */
    private void prefetch(long offset, long n) {
        long start = System.nanoTime();
        try {
            attachment.prefetch(offset, n);
        } finally {
            meters.timed(n, System.nanoTime() - start);
        }
    }

    /** Waits for a copy even when interrupted: a pause point must never see it in flight. */
    private void await(Future<?> f, int i) {
        boolean interrupted = false;
        while (true) {
            try {
                f.get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                batch.errors[i] = cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
                break;
            }
        }
        if (interrupted) {
            log.warn("Stream job thread was interrupted while waiting for its copies; ignored");
        }
    }
}
