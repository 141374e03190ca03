package dev.blockpull.job;

import java.time.Instant;

/**
 * An event as the bus published it.
 *
 * @param sequence global, strictly increasing from 1 (the SSE {@code id:}, Last-Event-ID)
 * @param time     when it was published (QMP's {@code timestamp})
 */
public record PublishedEvent(long sequence, Instant time, JobEvent event) {}
