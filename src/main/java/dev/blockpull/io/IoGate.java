package dev.blockpull.io;

import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A gate in front of I/O, for tests: while closed, every operation that passes it parks until
 * it opens. A test closes it, lets a job run into it, waits with {@link #awaitWaiting} until the
 * job is parked (so it is known to be mid-I/O), acts, and opens it again. This is how QEMU's
 * iotests hold a job still with a paused blkdebug drive. Opens by default.
 */
public final class IoGate {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean open = true;
    private int waiting;

    /** From now on, operations park at the gate. */
    public void close() {
        lock.lock();
        try {
            open = false;
        } finally {
            lock.unlock();
        }
    }

    /** Lets every parked operation through and stops parking new ones. */
    public void open() {
        lock.lock();
        try {
            open = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public boolean isOpen() {
        lock.lock();
        try {
            return open;
        } finally {
            lock.unlock();
        }
    }

    /** How many operations are parked right now. */
    public int waiting() {
        lock.lock();
        try {
            return waiting;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until at least {@code k} operations are parked at the gate.
     *
     * @return true when they are, false if {@code timeout} passed first
     */
    public boolean awaitWaiting(int k, Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (waiting < k) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = changed.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Called by the I/O path: returns at once when open, else parks until opened. */
    void pass() throws InterruptedIOException {
        lock.lock();
        try {
            if (open) {
                return;
            }
            waiting++;
            changed.signalAll();
            try {
                while (!open) {
                    changed.await();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("Interrupted while parked at the I/O gate");
            } finally {
                waiting--;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }
}
