package dev.blockpull.job;

import java.time.Instant;

/**
 * How a job recorded before a service restart is created again: with its first creation time,
 * one more restart, and paused if the user (or an error stop) had paused it.
 *
 * @param createdAt when the job was first created
 * @param restarts  restarts including this one
 * @param resumedAt when this restart set it up again
 * @param paused    comes back paused: a user pause that {@code resume} ends
 */
public record JobResumption(Instant createdAt, int restarts, Instant resumedAt, boolean paused) {}
