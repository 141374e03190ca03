package dev.blockpull.stream;

import dev.blockpull.job.JobView;

/** Told of every stream job started or resumed, right after its start, under the start's lock. */
@FunctionalInterface
public interface StreamStartListener {

    /** @param request the request with its job id resolved (never null) */
    void started(StreamRequest request, StreamOrigin origin, JobView view);
}
