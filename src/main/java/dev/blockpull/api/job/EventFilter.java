package dev.blockpull.api.job;

import dev.blockpull.api.ApiException;
import dev.blockpull.api.ProblemType;
import dev.blockpull.job.JobEvent;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What one {@code /jobs/events} client asked for: {@code ?jobId=} and {@code ?type=} (event
 * names), each comma-separated or repeated; an empty set lets everything through.
 */
record EventFilter(Set<String> jobIds, Set<String> types) {

    static final EventFilter ALL = new EventFilter(Set.of(), Set.of());

    /** An unknown event type is a typo that would silently filter everything out: 400. */
    static EventFilter of(@Nullable List<String> jobIds, @Nullable List<String> types) {
        Set<String> names = Set.copyOf(JobQueries.split(types));
        for (String name : names) {
            if (!JobEvent.NAMES.contains(name)) {
                throw new ApiException(
                        ProblemType.INVALID_ARGUMENT,
                        "Unknown event type '" + name + "' in ?type=; use one of " + String.join(", ", JobEvent.NAMES));
            }
        }
        return new EventFilter(Set.copyOf(JobQueries.split(jobIds)), names);
    }

    boolean accepts(JobEvent event) {
        return (jobIds.isEmpty() || jobIds.contains(event.jobId()))
                && (types.isEmpty() || types.contains(event.name()));
    }
}
