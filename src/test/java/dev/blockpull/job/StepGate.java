package dev.blockpull.job;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Holds a fake job's thread mid-iteration (busy, between two pause points) until the test lets
 * it through, the way an io gate holds a real job mid-I/O. Closed: each pass needs a permit.
 */
final class StepGate {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean open = true;
    private int permits;
    private int waiting;

    void close() {
        lock.lock();
        try {
            open = false;
        } finally {
            lock.unlock();
        }
    }

    void open() {
        lock.lock();
        try {
            open = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Lets {@code n} waiting or future passes through while closed. */
    void release(int n) {
        lock.lock();
        try {
            permits += n;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until a job thread is parked at the gate. */
    boolean awaitWaiting(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (waiting == 0) {
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

    void pass() {
        lock.lock();
        try {
            waiting++;
            changed.signalAll();
            while (!open && permits == 0) {
                changed.awaitUninterruptibly();
            }
            if (!open) {
                permits--;
            }
            waiting--;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
