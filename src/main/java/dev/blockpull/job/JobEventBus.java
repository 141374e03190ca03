package dev.blockpull.job;

import dev.blockpull.io.DaemonThreads;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In-process bus of job events: SSE, metrics and the history all listen here.
 * <p>
 * Publishing never blocks on a subscriber: it numbers the event, stores it in a small ring
 * buffer (for Last-Event-ID replay) and appends it to each subscriber's bounded queue; a
 * delivery executor drains each queue on its own thread. <b>Overflow policy: disconnect.</b> A
 * subscriber whose queue is full is dropped as a whole (and told so), rather than losing single
 * events silently: an SSE client can then reconnect with its Last-Event-ID and get a complete
 * replay from the ring, or learn from {@link EventSubscription#replayComplete()} that it cannot.
 * <p>
 * {@link JobEvent.JobProgress} events are coalesced for replay: only the latest one of each job is
 * kept, beside the ring rather than in it, so progress never pushes a status change out.
 */
public final class JobEventBus implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(JobEventBus.class);

    /**
     * Threads that write to subscribers, whatever their number: a subscriber stuck in a write holds
     * one until its socket times out, while the others' deliveries wait in the queue (at most one
     * task per subscriber) and the publisher never waits at all.
     */
    static final int DELIVERY_THREADS = 16;

    private final Clock clock;
    private final int queueCapacity;
    private final ExecutorService delivery;
    private final PublishedEvent[] ring;
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    /** The latest JOB_PROGRESS of each job that is newer than everything the ring has dropped. */
    private final Map<String, PublishedEvent> latestProgress = new HashMap<>();

    private long lastSequence;
    /** Sequence of the newest event the ring has overwritten (0: none yet). */
    private long evictedUpTo;

    private int ringNext;
    private int ringSize;

    /**
     * @param ringCapacity  recent events kept for replay
     * @param queueCapacity events a subscriber may lag behind before it is disconnected
     */
    public JobEventBus(int ringCapacity, int queueCapacity, Clock clock) {
        if (ringCapacity < 1 || queueCapacity < 1) {
            throw new IllegalArgumentException("ring and queue capacities must be positive");
        }
        this.clock = clock;
        this.queueCapacity = queueCapacity;
        this.ring = new PublishedEvent[ringCapacity];
        ThreadPoolExecutor pool = new ThreadPoolExecutor(
                DELIVERY_THREADS,
                DELIVERY_THREADS,
                30,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                DaemonThreads.named("blockpull-events-"));
        pool.allowCoreThreadTimeOut(true);
        this.delivery = pool;
    }

    /** Numbers, stores and hands out the event; O(subscribers), never waits for one. */
    public synchronized PublishedEvent publish(JobEvent event) {
        PublishedEvent published = new PublishedEvent(++lastSequence, clock.instant(), event);
        if (event instanceof JobEvent.JobProgress) {
            latestProgress.put(event.jobId(), published);
        } else {
            store(published);
        }
        for (Subscription s : subscriptions) {
            s.offer(published);
        }
        return published;
    }

    private void store(PublishedEvent published) {
        PublishedEvent overwritten = ring[ringNext];
        ring[ringNext] = published;
        ringNext = (ringNext + 1) % ring.length;
        ringSize = Math.min(ringSize + 1, ring.length);
        if (overwritten != null) {
            evictedUpTo = overwritten.sequence();
            // A replay from before evictedUpTo is incomplete anyway: older progress is not worth keeping.
            latestProgress.values().removeIf(p -> p.sequence() <= evictedUpTo);
        }
    }

    /**
     * Numbers the next event after {@code sequence} if that is ahead: a service that restarts
     * continues the numbering of its previous run, so an SSE client's Last-Event-ID from before
     * the restart is older than every new event and replays them all.
     */
    public synchronized void continueAfter(long sequence) {
        lastSequence = Math.max(lastSequence, sequence);
    }

    /** The sequence number of the newest event, 0 before the first. */
    public synchronized long lastSequence() {
        return lastSequence;
    }

    /**
     * Events with a sequence greater than {@code afterSequence} still in the ring, with the latest
     * progress of each job, oldest first. Complete unless a status event after it was overwritten.
     */
    public synchronized EventReplay replayAfter(long afterSequence) {
        List<PublishedEvent> events = new ArrayList<>();
        int oldest = (ringNext - ringSize + ring.length) % ring.length;
        for (int i = 0; i < ringSize; i++) {
            PublishedEvent e = ring[(oldest + i) % ring.length];
            if (e.sequence() > afterSequence) {
                events.add(e);
            }
        }
        for (PublishedEvent p : latestProgress.values()) {
            if (p.sequence() > afterSequence) {
                events.add(p);
            }
        }
        events.sort(Comparator.comparingLong(PublishedEvent::sequence));
        return new EventReplay(List.copyOf(events), afterSequence >= evictedUpTo);
    }

    /** Subscribes to events published from now on. */
    public synchronized EventSubscription subscribe(EventSubscriber subscriber) {
        return subscribe(lastSequence, subscriber);
    }

    /**
     * Subscribes and first replays the ring's events after {@code afterSequence} (an SSE
     * Last-Event-ID), atomically with publishing, so nothing is missed or seen twice.
     */
    public synchronized EventSubscription subscribe(long afterSequence, EventSubscriber subscriber) {
        EventReplay replay = replayAfter(afterSequence);
        Subscription s = new Subscription(subscriber, replay.complete());
        for (PublishedEvent e : replay.events()) {
            s.offer(e);
        }
        subscriptions.add(s);
        return s;
    }

    /** Current number of subscriptions. */
    public int subscriberCount() {
        return subscriptions.size();
    }

    /** Stops delivery threads; events still queued are dropped. */
    @Override
    public void close() {
        for (Subscription s : subscriptions) {
            s.close();
        }
        delivery.shutdown();
        try {
            if (!delivery.awaitTermination(5, TimeUnit.SECONDS)) {
                // A subscriber stuck in onEvent: its thread is a daemon and must not hold shutdown.
                log.warn("Event delivery did not stop within 5 s; a subscriber is stuck");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private final class Subscription implements EventSubscription, Runnable {

        private final EventSubscriber subscriber;
        private final boolean replayComplete;
        private final ArrayDeque<PublishedEvent> queue = new ArrayDeque<>();
        private boolean scheduled;
        private volatile boolean open = true;

        Subscription(EventSubscriber subscriber, boolean replayComplete) {
            this.subscriber = subscriber;
            this.replayComplete = replayComplete;
        }

        void offer(PublishedEvent event) {
            boolean schedule;
            synchronized (this) {
                if (!open) {
                    return;
                }
                if (queue.size() >= queueCapacity) {
                    disconnect(EventSubscriber.DisconnectReason.TOO_SLOW);
                    return;
                }
                queue.addLast(event);
                schedule = !scheduled;
                scheduled = true;
            }
            if (schedule) {
                execute(this);
            }
        }

        /** Delivers queued events one at a time, outside any lock. */
        @Override
        public void run() {
            while (true) {
                PublishedEvent next;
                synchronized (this) {
                    next = open ? queue.pollFirst() : null;
                    if (next == null) {
                        scheduled = false;
                        return;
                    }
                }
                try {
                    subscriber.onEvent(next);
                } catch (RuntimeException | Error e) {
                    // Any throw, Errors too: otherwise this queue would stay "scheduled" forever.
                    log.warn("Event subscriber failed on event {}; disconnecting it", next.sequence(), e);
                    synchronized (this) {
                        disconnect(EventSubscriber.DisconnectReason.FAILED);
                        scheduled = false;
                    }
                    return;
                }
            }
        }

        /** Caller holds this subscription's monitor. */
        private void disconnect(EventSubscriber.DisconnectReason reason) {
            open = false;
            queue.clear();
            subscriptions.remove(this);
            execute(() -> subscriber.onDisconnect(reason));
        }

        @Override
        public boolean replayComplete() {
            return replayComplete;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            synchronized (this) {
                open = false;
                queue.clear();
            }
            subscriptions.remove(this);
        }
    }

    private void execute(Runnable task) {
        try {
            delivery.execute(task);
        } catch (RejectedExecutionException e) {
            log.debug("Event delivery is shut down; dropping a delivery task");
        }
    }
}
