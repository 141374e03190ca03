package dev.blockpull.job;

import java.util.List;

/**
 * Events after a sequence number, from the ring buffer.
 *
 * @param complete false when events after the asked sequence had already been overwritten
 */
public record EventReplay(List<PublishedEvent> events, boolean complete) {}
