package dev.blockpull.job;

/** A live subscription to the {@link JobEventBus}. */
public interface EventSubscription extends AutoCloseable {

    /**
     * False when the replay requested at subscription started later than asked: some events
     * after the given sequence had already left the ring buffer.
     */
    boolean replayComplete();

    boolean isOpen();

    /** Stops delivery; events already being delivered may still arrive. */
    @Override
    void close();
}
