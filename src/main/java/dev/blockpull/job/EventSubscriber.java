package dev.blockpull.job;

/** Receives bus events on a delivery thread, never on a job thread, one at a time, in order. */
public interface EventSubscriber {

    void onEvent(PublishedEvent event);

    /**
     * The bus ended the subscription: the subscriber fell too far behind or threw. The SSE layer
     * closes its stream; the client reconnects with Last-Event-ID and is replayed what it missed.
     */
    default void onDisconnect(DisconnectReason reason) {}

    enum DisconnectReason {
        /** Its queue was full: it reads slower than jobs publish. */
        TOO_SLOW,
        /** {@link #onEvent} threw. */
        FAILED
    }
}
