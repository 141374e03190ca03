package dev.blockpull.api.job;

import dev.blockpull.job.EventSubscriber;
import dev.blockpull.job.EventSubscription;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.PublishedEvent;
import dev.blockpull.ops.BlockpullProperties;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * The open {@code /jobs/events} streams (conventions §5). Each is a subscription to the job event
 * bus, whose delivery threads write to the emitter: a job thread never writes to a socket, and a
 * slow client is disconnected by the bus (it reconnects with Last-Event-ID) instead of slowing a
 * job. A comment line every {@code blockpull.jobs.events-heartbeat} keeps proxies from closing an
 * idle stream. On context close every stream is completed first, so an open stream does not hold
 * the web server's graceful shutdown.
 */
@Component
class JobEventStreams implements ApplicationListener<ContextClosedEvent>, DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(JobEventStreams.class);

    private final JobScheduler scheduler;
    private final Duration timeout;
    private final Set<Stream> streams = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService heartbeat;
    private volatile boolean closed;

    JobEventStreams(JobScheduler scheduler, BlockpullProperties properties) {
        this.scheduler = scheduler;
        this.timeout = properties.jobs().eventsTimeout();
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "blockpull-sse-heartbeat");
            t.setDaemon(true);
            return t;
        });
        long every = properties.jobs().eventsHeartbeat().toMillis();
        heartbeat.scheduleWithFixedDelay(this::heartbeat, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * A new stream of the events the filter accepts: events after {@code lastEventId} still in the
     * bus's ring are replayed first, then live ones follow; without it, only events from now on.
     */
    SseEmitter open(@Nullable Long lastEventId, EventFilter filter) {
        SseEmitter emitter = new SseEmitter(timeout.toMillis());
        Stream stream = new Stream(emitter, filter);
        emitter.onCompletion(stream::close);
        emitter.onTimeout(() -> {
            stream.close();
            emitter.complete();
        });
        emitter.onError(e -> stream.close());
        if (closed) {
            emitter.complete();
            return emitter;
        }
        streams.add(stream);
        // Sent at once so the response headers go out before the first event.
        stream.send(SseEmitter.event().comment("blockpull job events"));
        EventSubscription subscription = lastEventId == null
                ? scheduler.events().subscribe(stream)
                : scheduler.events().subscribe(lastEventId, stream);
        stream.attach(subscription);
        if (!subscription.replayComplete()) {
            stream.send(SseEmitter.event()
                    .comment("replay incomplete: events after " + lastEventId
                            + " have partly left the buffer; re-read the jobs"));
        }
        return emitter;
    }

    int openStreams() {
        return streams.size();
    }

    private void heartbeat() {
        for (Stream s : streams) {
            s.send(SseEmitter.event().comment("keep-alive"));
        }
    }

    /** Runs before the web server's graceful shutdown phase. */
    @Override
    public void onApplicationEvent(ContextClosedEvent event) {
        closed = true;
        for (Stream s : streams) {
            s.close();
            try {
                s.emitter.complete();
            } catch (RuntimeException e) {
                log.debug("Completing an event stream failed", e);
            }
        }
        streams.clear();
    }

    @Override
    public void destroy() {
        heartbeat.shutdownNow();
    }

    /** One client: an emitter fed by one bus subscription, through its filter. */
    private final class Stream implements EventSubscriber {

        final SseEmitter emitter;
        private final EventFilter filter;
        private volatile @Nullable EventSubscription subscription;
        private volatile boolean done;

        Stream(SseEmitter emitter, EventFilter filter) {
            this.emitter = emitter;
            this.filter = filter;
        }

        void attach(EventSubscription s) {
            subscription = s;
            if (done) {
                s.close();
            }
        }

        /** On a bus delivery thread. */
        @Override
        public void onEvent(PublishedEvent published) {
            if (!filter.accepts(published.event())) {
                return;
            }
            send(SseEmitter.event()
                    .id(Long.toString(published.sequence()))
                    .name(published.event().name())
                    .data(published.event().data(), MediaType.APPLICATION_JSON));
        }

        /** Too slow: end the stream; the client reconnects with Last-Event-ID and is replayed the rest. */
        @Override
        public void onDisconnect(DisconnectReason reason) {
            log.info("Closing an event stream: {}", reason);
            close();
            try {
                emitter.complete();
            } catch (RuntimeException e) {
                log.debug("Completing an event stream failed", e);
            }
        }

        void send(SseEmitter.SseEventBuilder event) {
            if (done) {
                return;
            }
            try {
                emitter.send(event);
            } catch (IOException | IllegalStateException e) {
                // The client went away (or the emitter completed): stop feeding it.
                log.debug("Event stream closed while sending: {}", e.toString());
                close();
            }
        }

        void close() {
            done = true;
            streams.remove(this);
            EventSubscription s = subscription;
            if (s != null) {
                s.close();
            }
        }
    }
}
