package dev.blockpull.job;

import java.time.Clock;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Tunables of the {@link JobScheduler}; the ops floor fills them from {@code blockpull.jobs.*}.
 *
 * @param historySize             dismissed jobs kept readable
 * @param historyMaxAge           how long a dismissed job stays readable
 * @param eventRingSize           recent events kept for Last-Event-ID replay
 * @param subscriberQueueCapacity events a subscriber may lag behind before it is disconnected
 * @param throughputWindow        window of {@code bytesPerSecond}
 * @param progressInterval        least time between two JOB_PROGRESS events of one job
 * @param clock                   wall clock of createdAt, finishedAt, event times, history age
 * @param nanoTime                monotonic clock of the rate limiter and throughput
 */
public record JobSchedulerSettings(
        int historySize,
        Duration historyMaxAge,
        int eventRingSize,
        int subscriberQueueCapacity,
        Duration throughputWindow,
        Duration progressInterval,
        Clock clock,
        LongSupplier nanoTime) {

    public static JobSchedulerSettings defaults() {
        return new JobSchedulerSettings(
                1000,
                Duration.ofHours(1),
                1024,
                1024,
                Duration.ofSeconds(5),
                Duration.ofSeconds(1),
                Clock.systemUTC(),
                System::nanoTime);
    }

    public JobSchedulerSettings withHistory(int size, Duration maxAge) {
        return new JobSchedulerSettings(
                size,
                maxAge,
                eventRingSize,
                subscriberQueueCapacity,
                throughputWindow,
                progressInterval,
                clock,
                nanoTime);
    }

    public JobSchedulerSettings withEvents(int ringSize, int queueCapacity) {
        return new JobSchedulerSettings(
                historySize,
                historyMaxAge,
                ringSize,
                queueCapacity,
                throughputWindow,
                progressInterval,
                clock,
                nanoTime);
    }

    public JobSchedulerSettings withClocks(Clock wallClock, LongSupplier monotonicNanos) {
        return new JobSchedulerSettings(
                historySize,
                historyMaxAge,
                eventRingSize,
                subscriberQueueCapacity,
                throughputWindow,
                progressInterval,
                wallClock,
                monotonicNanos);
    }

    public JobSchedulerSettings withProgressInterval(Duration interval) {
        return new JobSchedulerSettings(
                historySize,
                historyMaxAge,
                eventRingSize,
                subscriberQueueCapacity,
                throughputWindow,
                interval,
                clock,
                nanoTime);
    }
}
