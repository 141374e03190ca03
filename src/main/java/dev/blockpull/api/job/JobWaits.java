package dev.blockpull.api.job;

import dev.blockpull.api.ApiException;
import dev.blockpull.api.ProblemType;
import dev.blockpull.job.EventSubscriber;
import dev.blockpull.job.EventSubscription;
import dev.blockpull.job.JobEvent;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.job.PublishedEvent;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.async.DeferredResult;

/**
 * {@code GET /jobs/stream/{id}?waitFor=STATUS&timeout=30s}: answers when the job reaches the
 * status, or has finished (concluded or dismissed: it will reach no other status), or the timeout
 * passes, without polling. Each wait listens on the job event bus; the job is read after
 * subscribing, so a change in between is never missed. On context close every wait answers at once,
 * so none holds the web server's graceful shutdown.
 */
@Component
class JobWaits implements ApplicationListener<ContextClosedEvent> {

    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** Well below the SSE timeout and any proxy's idle timeout people configure on purpose. */
    static final Duration MAX_TIMEOUT = Duration.ofMinutes(5);

    private final JobScheduler scheduler;
    private final JobQueries jobs;
    /** Open waits; completed with null (= read the job now) on shutdown. */
    private final Set<CompletableFuture<@Nullable JobView>> open = ConcurrentHashMap.newKeySet();

    JobWaits(JobScheduler scheduler, JobQueries jobs) {
        this.scheduler = scheduler;
        this.jobs = jobs;
    }

    /** {@code ?waitFor=}: a QMP status name, else 400. */
    private static JobStatus status(String waitFor) {
        try {
            return JobStatus.fromQmpName(waitFor);
        } catch (IllegalArgumentException e) {
            throw new ApiException(
                    ProblemType.INVALID_ARGUMENT,
                    "Unknown job status '" + waitFor + "' in ?waitFor=; "
                            + "use a status such as concluded, paused, pending or running");
        }
    }

    /** {@code ?timeout=}: 30s, 500ms, 2m or plain seconds, up to 5 minutes, else 400. */
    private static Duration timeout(@Nullable String timeout) {
        if (timeout == null || timeout.isBlank()) {
            return DEFAULT_TIMEOUT;
        }
        Duration parsed;
        try {
            parsed = DurationStyle.detectAndParse(timeout.trim(), java.time.temporal.ChronoUnit.SECONDS);
        } catch (IllegalArgumentException e) {
            parsed = null;
        }
        if (parsed == null || parsed.isNegative() || parsed.compareTo(MAX_TIMEOUT) > 0) {
            throw new ApiException(
                    ProblemType.INVALID_ARGUMENT,
                    "Invalid ?timeout='" + timeout + "': give a duration from 0s to " + MAX_TIMEOUT.toMinutes()
                            + "m, such as 30s, 500ms or 2m");
        }
        return parsed;
    }

    /** A plain GET of a job takes no timeout: that goes with {@code ?waitFor=} only. */
    static void refuseTimeoutWithoutWait(@Nullable String timeout) {
        if (timeout != null) {
            throw new ApiException(ProblemType.INVALID_ARGUMENT, "?timeout= only goes with ?waitFor=STATUS");
        }
    }

    /**
     * The request's answer made of the job once {@link #until} completes: when it reaches
     * {@code waitFor} or has finished, or when the timeout passed (a job not found fails the
     * request at once).
     */
    <T> DeferredResult<T> answer(
            String type, String id, String waitFor, @Nullable String timeout, Function<JobView, T> answerOf) {
        JobStatus wanted = status(waitFor);
        Duration limit = timeout(timeout);
        // The request outlives the wait by a margin, so the wait's own answer always wins.
        DeferredResult<T> answer = new DeferredResult<>(limit.plusSeconds(30).toMillis());
        until(type, id, wanted, limit).whenComplete((job, failure) -> {
            if (failure != null) {
                answer.setErrorResult(failure instanceof CompletionException ? failure.getCause() : failure);
            } else {
                answer.setResult(answerOf.apply(job));
            }
        });
        return answer;
    }

    /** The job once it reached {@code wanted} or finished, else when the timeout passed. */
    private CompletableFuture<JobView> until(String type, String id, JobStatus wanted, Duration timeout) {
        CompletableFuture<@Nullable JobView> reached = new CompletableFuture<>();
        EventSubscription subscription = scheduler.events().subscribe(new EventSubscriber() {
            @Override
            public void onEvent(PublishedEvent published) {
                if (published.event() instanceof JobEvent.JobStatusChange change
                        && change.id().equals(id)
                        && satisfies(change.status(), wanted)) {
                    reached.complete(null);
                }
            }

            @Override
            public void onDisconnect(DisconnectReason reason) {
                reached.complete(null);
            }
        });
        open.add(reached);
        reached.whenComplete((v, e) -> {
            subscription.close();
            open.remove(reached);
        });
        try {
            if (satisfies(jobs.get(type, id).status(), wanted)) {
                reached.complete(null);
            }
        } catch (RuntimeException notFound) {
            reached.complete(null);
            throw notFound;
        }
        return reached.completeOnTimeout(null, timeout.toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(v -> jobs.get(type, id));
    }

    private static boolean satisfies(JobStatus status, JobStatus wanted) {
        return status == wanted || status == JobStatus.CONCLUDED || status == JobStatus.NULL;
    }

    @Override
    public void onApplicationEvent(ContextClosedEvent event) {
        for (CompletableFuture<@Nullable JobView> wait : open) {
            wait.complete(null);
        }
    }
}
