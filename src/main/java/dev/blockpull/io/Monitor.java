package dev.blockpull.io;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A reentrant lock with one condition, "something changed", for state that threads read briefly
 * and wait on: short guarded reads and writes, waits for a condition within a timeout, and
 * actions deferred to the unlock that releases the last hold, for callbacks that must run with
 * the lock free (they may call back in, or take locks of their own). In {@code io}, the lowest
 * floor, so that the I/O gate and the jobs above share it.
 * <p>
 * An owner may also give an action that runs whenever the lock is about to be let go (the last
 * hold's release, or a wait), still held: there it can publish an immutable snapshot of what the
 * lock guards, for readers that must not wait for a holder (a low-priority holder that the
 * scheduler preempts would make them wait as long as it stays off the CPU).
 */
public final class Monitor {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Guarded by lock: only the holder adds, so they are always the current holder's. */
    private final List<Runnable> afterUnlock = new ArrayList<>();

    private final Runnable beforeRelease;

    public Monitor() {
        this(() -> {});
    }

    /** @param beforeRelease runs with the lock held each time it is about to be let go; must not throw */
    public Monitor(Runnable beforeRelease) {
        this.beforeRelease = beforeRelease;
    }

    public void lock() {
        lock.lock();
    }

    /** Takes the lock if no other thread holds it, without waiting. */
    public boolean tryLock() {
        return lock.tryLock();
    }

    /** Releases one hold; the last one then runs the deferred actions, in order, lock-free. */
    public void unlock() {
        if (lock.getHoldCount() > 1) {
            lock.unlock();
            return;
        }
        try {
            beforeRelease.run();
        } finally {
            releaseLast();
        }
    }

    private void releaseLast() {
        if (afterUnlock.isEmpty()) {
            lock.unlock();
            return;
        }
        List<Runnable> actions = List.copyOf(afterUnlock);
        afterUnlock.clear();
        lock.unlock();
        for (Runnable action : actions) {
            action.run();
        }
    }

    /**
     * Runs {@code action} once the current holder has released its last hold. An action that
     * throws skips the ones after it: catch inside. Never defer and then wait on the condition:
     * a wait releases the lock without running them.
     */
    public void afterUnlock(Runnable action) {
        requireHeld();
        afterUnlock.add(action);
    }

    public boolean isHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }

    public <T> T get(Supplier<T> read) {
        lock();
        try {
            return read.get();
        } finally {
            unlock();
        }
    }

    public void run(Runnable update) {
        lock();
        try {
            update.run();
        } finally {
            unlock();
        }
    }

    /** Wakes every waiter; they re-check their conditions. Call with the lock held. */
    public void signalAll() {
        changed.signalAll();
    }

    /** Waits for a signal (or a spurious wake-up). Call with the lock held. */
    public void await() throws InterruptedException {
        beforeRelease.run();
        changed.await();
    }

    /** {@link #await()} that does not answer an interrupt (it stays set). Call with the lock held. */
    public void awaitUninterruptibly() {
        beforeRelease.run();
        changed.awaitUninterruptibly();
    }

    /** {@link Condition#awaitNanos}: the nanoseconds left, at most 0 once they are up. */
    public long awaitNanos(long nanos) throws InterruptedException {
        beforeRelease.run();
        return changed.awaitNanos(nanos);
    }

    /**
     * Waits until {@code done} holds (it is read under the lock).
     *
     * @return true when it does, false if {@code timeout} passed first
     */
    public boolean awaitUntil(BooleanSupplier done, Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock();
        try {
            while (!done.getAsBoolean()) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = awaitNanos(nanos);
            }
            return true;
        } finally {
            unlock();
        }
    }

    private void requireHeld() {
        if (!lock.isHeldByCurrentThread()) {
            throw new IllegalMonitorStateException("The monitor is not held by this thread");
        }
    }
}
