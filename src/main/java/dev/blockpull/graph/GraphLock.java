package dev.blockpull.graph;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/** The graph lock: structure changes (and the reads they depend on) run one at a time under it; node I/O never takes it. */
final class GraphLock {

    private final ReentrantLock lock = new ReentrantLock();

    void run(Runnable change) {
        lock.lock();
        try {
            change.run();
        } finally {
            lock.unlock();
        }
    }

    <T> T call(Supplier<T> change) {
        lock.lock();
        try {
            return change.get();
        } finally {
            lock.unlock();
        }
    }
}
