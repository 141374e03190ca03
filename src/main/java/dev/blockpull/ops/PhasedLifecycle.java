package dev.blockpull.ops;

import org.springframework.context.SmartLifecycle;

/**
 * A {@link SmartLifecycle} at a fixed phase (lower phases start earlier and stop later) that
 * keeps its running flag: subclasses say only what starting and stopping do. Stopping happens
 * once; the context calls it only for a running bean anyway.
 */
public abstract class PhasedLifecycle implements SmartLifecycle {

    private final int phase;
    private volatile boolean running;

    protected PhasedLifecycle(int phase) {
        this.phase = phase;
    }

    /** What starting does; nothing unless overridden. */
    protected void onStart() {}

    /** What stopping does. */
    protected abstract void onStop();

    @Override
    public final void start() {
        onStart();
        running = true;
    }

    @Override
    public final void stop() {
        if (!running) {
            return;
        }
        running = false;
        onStop();
    }

    @Override
    public final boolean isRunning() {
        return running;
    }

    @Override
    public final int getPhase() {
        return phase;
    }
}
