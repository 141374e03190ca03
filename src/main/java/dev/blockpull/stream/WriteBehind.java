package dev.blockpull.stream;

import dev.blockpull.graph.Attachment;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background write-behind of a stream's top: at most one at a time, so that completion
 * (which flushes before it rewrites the header) does not wait for all the copied data. Its
 * failure is left to the completion's flush, which reports it.
 */
final class WriteBehind implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(WriteBehind.class);

    private final Attachment attachment;
    private final Executor executor;
    private boolean running;

    WriteBehind(Attachment attachment, Executor executor) {
        this.attachment = attachment;
        this.executor = executor;
    }

    /** Starts one unless one is running; true when started. */
    synchronized boolean startIfIdle() {
        if (running) {
            return false;
        }
        running = true;
        executor.execute(this);
        return true;
    }

    @Override
    public void run() {
        try {
            attachment.writeBack();
        } catch (RuntimeException e) {
            log.debug("Write-behind failed; the completion's flush will report it: {}", e.toString());
        } finally {
            synchronized (this) {
                running = false;
                notifyAll();
            }
        }
    }

    /** Waits for a running write-behind: a pause point sees no I/O of the job in flight. */
    synchronized void await() {
        boolean interrupted = false;
        while (running) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            // not passed on: an interrupted job thread would close the images' FileChannels
            log.warn("Stream job thread was interrupted while waiting for its write-behind; ignored");
        }
    }
}
