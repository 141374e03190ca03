package dev.blockpull.stream;

import dev.blockpull.graph.Attachment;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.BufferPool;
import dev.blockpull.job.ErrorAction;
import dev.blockpull.job.IoOperation;
import dev.blockpull.job.JobContext;
import dev.blockpull.job.RateLimiter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run loop of stream-semantics §3 with copies in flight. The planner cuts the device into
 * segments (skipped chunks, then a run of adjacent copied chunks of up to the merged copy size);
 * each segment takes a {@link Slot} in a ring, and its run is copied as one copy-on-read prefetch
 * through the job's attachment (§3.2), so that a guest write that landed meanwhile is never
 * overwritten. At most {@code copiesInFlight} copies run at once, each with one of the loop's
 * pooled buffers (nothing is allocated per copy); the ring holds several times as many segments,
 * so a copy that finishes early hands its buffer to the next segment at once instead of waiting
 * for the oldest one: reads of the next runs overlap the writes of the current ones.
 *
 * <p>Results are taken in offset order, exactly as QEMU's sequential loop takes them: progress,
 * rate-limit accounting for copies only, and the on-error policy for the first failed chunk
 * (stop: retry from it after resume; report: fail with it; ignore: count it and go on, fail at
 * the end). A merged copy that fails is redone chunk by chunk, so every error belongs to its
 * 512 KiB chunk.
 *
 * <p>The pause point keeps its meaning: the loop goes to it only with nothing of this job in
 * flight. It goes there when the job asks for it (pause, drain, cancel) and, when rate limited,
 * whenever the limiter asks for a sleep: then the copies in flight end and are accounted first.
 * A rate-limited job copies 512 KiB chunks, one at a time below 10 MiB/s (QEMU's
 * loop), more at once for faster limits (see {@link #window}); every copied chunk is accounted,
 * so the limiter's arithmetic stays exactly QEMU's.
 *
 * <p>Some 400 lines on purpose: the ring, the loop's buffers and the accounting share one monitor
 * and one set of invariants (a pause point sees no copy in flight); split, they would share a lock.
 */
final class CopyLoop {

    private static final Logger log = LoggerFactory.getLogger(CopyLoop.class);
    /** Segments planned ahead per copy in flight. */
    private static final int SLOTS_PER_COPY = 4;
    /**
     * Copied bytes after which the top's written data is pushed to disk in the background, so
     * that completion (which flushes before it rewrites the header) does not wait for all of it.
     * A rate-limited job does it after each second's worth of its speed: its final flush then
     * stays short beside its whole run, and the limiter's sleeps hide the write-behind.
     */
    static final long WRITE_BACK_EVERY = 64L << 20;

    private static final long MIN_WRITE_BACK = 1L << 20;

    private final Attachment attachment;
    private final ChunkPlanner planner;
    private final long length;
    private final StreamSettings settings;
    private final Executor copiers;
    private final BufferPool buffers;
    private final CopyMeters.Job meters;
    /** The job's logging context, for what copier threads log. */
    private final JobLogContext jobLog = JobLogContext.ofCurrentThread();

    private final Slot[] slots;
    /** The loop's copy buffers not in use by a copy; guarded by this. */
    private final ByteBuffer[] idle;

    private int idleCount;
    /** Buffers taken from the pool so far: each is taken by the first copy that needs it, on its own thread. */
    private int taken;
    /** The oldest slot in use, and how many are: segments planned and not yet accounted. */
    private int head;

    private int used;
    /** Where the next segment is planned. */
    private long planned;

    private long copied;
    private @Nullable RuntimeException firstError;
    private boolean reported;
    private long copiedAtWriteBack;
    private final WriteBehind writeBack;

    CopyLoop(
            Attachment attachment,
            ChunkPlanner planner,
            long length,
            StreamSettings settings,
            Executor copiers,
            BufferPool buffers,
            CopyMeters.Job meters) {
        this.attachment = attachment;
        this.planner = planner;
        this.length = length;
        this.settings = settings;
        this.copiers = copiers;
        this.buffers = buffers;
        this.meters = meters;
        this.slots = new Slot[Math.min(256, settings.copiesInFlight() * SLOTS_PER_COPY)];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot();
        }
        this.idle = new ByteBuffer[settings.copiesInFlight()];
        this.writeBack = new WriteBehind(attachment, copiers);
    }

    /** Runs to the end; throws the first error (report, or ignored ones) or JobCancelledException. */
    void run(JobContext context) {
        context.setProgressRemaining(length);
        try {
            loop(context);
        } finally {
            dropAll(); // a cancel or an unexpected error must not leave a copy behind
            synchronized (this) {
                while (idleCount > 0) {
                    buffers.release(idle[--idleCount]);
                    idle[idleCount] = null;
                }
            }
        }
        log.debug("Copy loop ended at {} of {} after copying {} bytes", planned, length, copied);
        if (firstError != null) {
            throw firstError;
        }
    }

    private void loop(JobContext context) {
        context.pausePoint();
        long speed = context.speed();
        while (!reported) {
            int window = window(speed);
            while (used < window && planned < length && hasIdleBuffer()) {
                start(speed > 0, window);
            }
            if (used == 0) {
                return;
            }
            if (!awaitHeadOrBuffer(window)) {
                continue; // a copy ended early: its buffer takes the next segment
            }
            boolean stopped = retireHead(context);
            if (copied - copiedAtWriteBack >= writeBackEvery(speed) && writeBack.startIfIdle()) {
                copiedAtWriteBack = copied;
            }
            if (stopped || context.pauseRequested() || context.speed() != speed) {
                dropAll(); // a pause takes effect after the oldest copy, as QEMU's after its chunk
                if (reported) {
                    return;
                }
                context.pausePoint();
                speed = context.speed();
            } else if (speed > 0 && (used == 0 || context.rateLimitDelay() > 0)) {
                // ahead of the limit: what is in flight ends and is accounted, then the limiter's sleep
                if (retireAll(context) && reported) {
                    return;
                }
                context.pausePoint();
                speed = context.speed();
            }
        }
    }

    /**
     * Segments in flight or planned: all slots for an unthrottled job; for a rate-limited one no
     * more chunks than one 100 ms slice of its speed pays for, at least one (QEMU's loop) and at
     * most {@code copiesInFlight}: a fast limit is then not held back by one copy's latency,
     * while a slow one keeps QEMU's chunk-by-chunk pace.
     */
    private int window(long speed) {
        if (speed <= 0) {
            return slots.length;
        }
        long perSlice = speed / (1_000_000_000L / RateLimiter.SLICE_NANOS) / settings.chunkSize();
        return (int) Math.max(1, Math.min(idle.length, perSlice));
    }

    /** Retires every segment in flight; true when the on-error policy stopped the loop. */
    private boolean retireAll(JobContext context) {
        while (used > 0) {
            if (retireHead(context)) {
                return true;
            }
        }
        return false;
    }

    static long writeBackEvery(long speed) {
        return speed <= 0 ? WRITE_BACK_EVERY : Math.max(MIN_WRITE_BACK, Math.min(WRITE_BACK_EVERY, speed));
    }

    /** Plans the next segment into the next slot and starts its copy. */
    private void start(boolean throttled, int window) {
        Slot slot = slots[(head + used) % slots.length];
        ChunkBatch b = slot.batch;
        if (throttled) {
            planner.plan(planned, settings.chunkSize(), 1, b);
        } else {
            planner.plan(planned, settings.mergedCopySize(), settings.maxPlanned(), b);
        }
        planned = b.end(b.size - 1);
        used++;
        if (b.copies == 0) {
            slot.done = true; // only skipped chunks: nothing to copy
            return;
        }
        ByteBuffer buffer = takeIdleBuffer();
        if (window == 1 || idle.length == 1) {
            ByteBuffer own = bufferFor(slot, buffer);
            if (own != null) {
                slot.copy(own); // QEMU's loop: no one to overlap with
                giveBack(slot, own);
            }
        } else {
            slot.begin(buffer);
            copiers.execute(slot);
        }
    }

    /**
     * An idle buffer, or one more may be taken: the first always, the others while direct memory
     * has room for them (many jobs at once then keep fewer copies in flight each).
     */
    private synchronized boolean hasIdleBuffer() {
        return idleCount > 0 || (taken < idle.length && (taken == 0 || buffers.hasRoomFor(settings.mergedCopySize())));
    }

    /** An idle buffer of the loop, or null: the copy takes a new one from the pool itself. */
    private synchronized @Nullable ByteBuffer takeIdleBuffer() {
        if (idleCount == 0) {
            taken++;
            return null;
        }
        ByteBuffer b = idle[--idleCount];
        idle[idleCount] = null;
        return b;
    }

    /**
     * {@code given}, or a new buffer from the pool; null when direct memory has none to give:
     * the segment's copies then fail (an I/O error, to the on-error policy) instead of leaving
     * the loop waiting for a copy that never ran.
     */
    private @Nullable ByteBuffer bufferFor(Slot slot, @Nullable ByteBuffer given) {
        if (given != null) {
            return given;
        }
        try {
            return buffers.acquire(settings.mergedCopySize());
        } catch (OutOfMemoryError e) {
            slot.failCopies(new BlockIoException(
                    "No direct memory for a copy buffer (" + e.getMessage()
                            + "): raise -XX:MaxDirectMemorySize or lower blockpull.stream.copies-in-flight",
                    new IOException(e)));
            synchronized (this) {
                taken--;
                slot.done = true;
                notifyAll();
            }
            return null;
        }
    }

    private synchronized void giveBack(Slot slot, ByteBuffer buffer) {
        idle[idleCount++] = buffer;
        slot.done = true;
        notifyAll();
    }

    /**
     * Waits until the oldest segment is done (true) or a buffer is idle while more segments may
     * be planned (false). Waits even when interrupted: a pause point must never see a copy in flight.
     */
    private synchronized boolean awaitHeadOrBuffer(int window) {
        boolean interrupted = false;
        while (!slots[head].done && !(idleCount > 0 && used < window && planned < length)) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            log.warn("Stream job thread was interrupted while waiting for its copies; ignored");
        }
        return slots[head].done;
    }

    /**
     * Waits for the oldest segment and takes its results; true when the on-error policy stopped
     * the loop (stop or report): then every other segment has been waited for and dropped.
     */
    private boolean retireHead(JobContext context) {
        Slot slot = awaitHead();
        long stopAt = account(slot.batch, context);
        if (stopAt < 0) {
            return false;
        }
        dropAll();
        planned = stopAt;
        planner.forget();
        return true;
    }

    private Slot awaitHead() {
        awaitHeadOrBuffer(0); // window 0: the head itself
        Slot slot = slots[head];
        head = (head + 1) % slots.length;
        used--;
        return slot;
    }

    /**
     * Waits for every segment in flight and drops its results: planning goes on from the first
     * of them, whose chunks are planned again (what they copied is then found in the top and
     * skipped, so progress counts each chunk once). Their copies count as copied bytes.
     */
    private void dropAll() {
        writeBack.await();
        if (used == 0) {
            return;
        }
        long from = slots[head].batch.offsets[0];
        while (used > 0) {
            ChunkBatch b = awaitHead().batch;
            for (int i = 0; i < b.size; i++) {
                if (b.copy[i] && b.errors[i] == null) {
                    meters.copied(b.lengths[i]);
                    copied += b.lengths[i];
                }
            }
        }
        planned = from;
        planner.forget();
    }

    /**
     * Progress, rate limit and on-error policy for one segment, chunk by chunk. Returns the
     * offset to go on from after a stop (stop: the failed chunk, retried after resume; report:
     * the end), or -1 to go on as planned.
     */
    private long account(ChunkBatch b, JobContext context) {
        for (int i = 0; i < b.size; i++) {
            RuntimeException error = b.errors[i];
            if (error != null) {
                ErrorAction action = context.handleError(error, IoOperation.READ);
                log.debug("Chunk at {} failed ({}): {}", b.offsets[i], action, error.toString());
                if (action == ErrorAction.STOP) {
                    return b.offsets[i]; // paused at the next pause point; this chunk is retried
                }
                if (firstError == null) {
                    firstError = error;
                }
                if (action == ErrorAction.REPORT) {
                    reported = true;
                    return length;
                }
            }
            long n = b.lengths[i];
            context.addProgress(n);
            if (b.copy[i]) {
                context.rateLimitAccount(n);
                if (error == null) {
                    meters.copied(n);
                    copied += n;
                }
            }
        }
        return -1;
    }

    /** One planned segment: its chunks, and whether its copy is done (guarded by the loop). */
    private final class Slot implements Runnable {
        final ChunkBatch batch = new ChunkBatch(settings.maxPlanned());
        boolean done = true;
        private @Nullable ByteBuffer buffer;

        void begin(@Nullable ByteBuffer b) {
            synchronized (CopyLoop.this) {
                done = false;
                buffer = b;
            }
        }

        /** On a copier thread. */
        @Override
        public void run() {
            ByteBuffer given;
            synchronized (CopyLoop.this) {
                given = buffer;
                buffer = null;
            }
            ByteBuffer b = bufferFor(this, given); // a fresh one is zeroed here, beside the other copies
            if (b == null) {
                return;
            }
            try {
                copy(b);
            } finally {
                giveBack(this, b);
            }
        }

        void failCopies(BlockIoException error) {
            for (int i = batch.size - batch.copies; i < batch.size; i++) {
                batch.errors[i] = error;
            }
        }

        /**
         * Copies the segment's run of copied chunks with one prefetch; if that fails, chunk by
         * chunk so that each error belongs to the chunk that met it (QEMU's 512 KiB granularity).
         * Copying twice is harmless: copy-on-read only fills what the top still lacks.
         */
        void copy(ByteBuffer buf) {
            ChunkBatch b = batch;
            int first = b.size - b.copies; // copied chunks end a segment
            if (b.copies > 1) {
                try {
                    prefetch(b.offsets[first], b.end(b.size - 1) - b.offsets[first], buf);
                    return;
                } catch (RuntimeException e) {
                    if (log.isDebugEnabled()) {
                        long from = b.offsets[first];
                        long to = b.end(b.size - 1);
                        jobLog.run(() -> log.debug(
                                "Merged copy of chunks at {}..{} failed, retrying chunk by chunk: {}",
                                from,
                                to,
                                e.toString()));
                    }
                }
            }
            for (int i = first; i < b.size; i++) {
                try {
                    prefetch(b.offsets[i], b.lengths[i], buf);
                } catch (RuntimeException e) {
                    b.errors[i] = e;
                }
            }
        }

        /** One copy request, timed for the chunk copy latency metric (failed ones too). */
        private void prefetch(long offset, long n, ByteBuffer buf) {
            long start = System.nanoTime();
            try {
                attachment.prefetch(offset, n, buf);
            } finally {
                meters.timed(n, System.nanoTime() - start);
            }
        }
    }
}
