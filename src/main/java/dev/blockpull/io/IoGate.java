package dev.blockpull.io;

import java.io.InterruptedIOException;
import java.time.Duration;

/**
 * A gate in front of I/O, for tests: while closed, every operation that passes it parks until
 * it opens. A test closes it, lets a job run into it, waits with {@link #awaitWaiting} until the
 * job is parked (so it is known to be mid-I/O), acts, and opens it again. This is how QEMU's
 * iotests hold a job still with a paused blkdebug drive. Opens by default.
 */
public final class IoGate {

    private final Monitor monitor = new Monitor();
    private boolean open = true;
    private int waiting;

    /** From now on, operations park at the gate. */
    public void close() {
        monitor.run(() -> open = false);
    }

    /** Lets every parked operation through and stops parking new ones. */
    public void open() {
        monitor.run(() -> {
            open = true;
            monitor.signalAll();
        });
    }

    public boolean isOpen() {
        return monitor.get(() -> open);
    }

    /** How many operations are parked right now. */
    public int waiting() {
        return monitor.get(() -> waiting);
    }

    /**
     * Waits until at least {@code k} operations are parked at the gate.
     *
     * @return true when they are, false if {@code timeout} passed first
     */
    public boolean awaitWaiting(int k, Duration timeout) throws InterruptedException {
        return monitor.awaitUntil(() -> waiting >= k, timeout);
    }

    /** Called by the I/O path: returns at once when open, else parks until opened. */
    void pass() throws InterruptedIOException {
        monitor.lock();
        try {
            if (open) {
                return;
            }
            waiting++;
            monitor.signalAll();
            try {
                while (!open) {
                    monitor.await();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("Interrupted while parked at the I/O gate");
            } finally {
                waiting--;
                monitor.signalAll();
            }
        } finally {
            monitor.unlock();
        }
    }
}
