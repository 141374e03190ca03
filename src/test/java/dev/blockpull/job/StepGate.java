package dev.blockpull.job;

import dev.blockpull.io.Monitor;
import java.time.Duration;

/**
 * Holds a fake job's thread mid-iteration (busy, between two pause points) until the test lets
 * it through, the way an io gate holds a real job mid-I/O. Closed: each pass needs a permit.
 */
final class StepGate {

    private final Monitor monitor = new Monitor();
    private boolean open = true;
    private int permits;
    private int waiting;

    void close() {
        monitor.run(() -> open = false);
    }

    void open() {
        monitor.run(() -> {
            open = true;
            monitor.signalAll();
        });
    }

    /** Lets {@code n} waiting or future passes through while closed. */
    void release(int n) {
        monitor.run(() -> {
            permits += n;
            monitor.signalAll();
        });
    }

    /** Waits until a job thread is parked at the gate. */
    boolean awaitWaiting(Duration timeout) throws InterruptedException {
        return monitor.awaitUntil(() -> waiting > 0, timeout);
    }

    void pass() {
        monitor.run(() -> {
            waiting++;
            monitor.signalAll();
            while (!open && permits == 0) {
                monitor.awaitUninterruptibly();
            }
            if (!open) {
                permits--;
            }
            waiting--;
            monitor.signalAll();
        });
    }
}
