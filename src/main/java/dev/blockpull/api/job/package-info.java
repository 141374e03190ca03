/**
 * {@code /jobs}, {@code /jobs/stream} and {@code /jobs/events}: QEMU's block jobs over REST
 * (block-stream, query-jobs, job-pause/resume/cancel/finalize/dismiss, block-job-set-speed) and
 * their QMP events as Server-Sent Events.
 */
@NullMarked
package dev.blockpull.api.job;

import org.jspecify.annotations.NullMarked;
