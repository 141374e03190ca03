/**
 * Job floor: generic block jobs as QEMU's job core runs them, knowing nothing about streaming.
 * The status machine ({@link dev.blockpull.job.StatusTransitions}, {@link dev.blockpull.job.VerbTable}),
 * the {@link dev.blockpull.job.JobScheduler} that runs each job on its own thread with pause points
 * (one job: {@code ScheduledJob} and its parts, laid out like QEMU's job.c),
 * the {@link dev.blockpull.job.RateLimiter}, the {@link dev.blockpull.job.JobEventBus} and the
 * {@link dev.blockpull.job.JobHistory} of finished jobs. Plain Java: may use io, format and graph,
 * nothing above.
 */
@NullMarked
package dev.blockpull.job;

import org.jspecify.annotations.NullMarked;
