package dev.blockpull.job;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Subscribes to a bus and keeps what it receives, for order assertions. */
final class EventRecorder implements EventSubscriber {

    final List<PublishedEvent> received = new CopyOnWriteArrayList<>();

    @Override
    public void onEvent(PublishedEvent event) {
        received.add(event);
    }

    /** Event names of one job, JOB_STATUS_CHANGE spelt as "status:NAME"; JOB_PROGRESS left out (timing). */
    List<String> trail(String jobId) {
        List<String> trail = new ArrayList<>();
        for (PublishedEvent p : received) {
            JobEvent e = p.event();
            if (!e.jobId().equals(jobId) || e instanceof JobEvent.JobProgress) {
                continue;
            }
            if (e instanceof JobEvent.JobStatusChange) {
                trail.add(((JobEvent.JobStatusChange) e).status().qmpName());
            } else {
                trail.add(e.name());
            }
        }
        return trail;
    }

    /** Events of one job but JOB_PROGRESS, whose number depends on timing. */
    List<JobEvent> events(String jobId) {
        List<JobEvent> events = new ArrayList<>();
        for (PublishedEvent p : received) {
            if (p.event().jobId().equals(jobId) && !(p.event() instanceof JobEvent.JobProgress)) {
                events.add(p.event());
            }
        }
        return events;
    }

    /** Waits until the job's trail ends with {@code last}. */
    List<String> awaitTrailEndingWith(String jobId, String last) {
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            List<String> t = trail(jobId);
            return !t.isEmpty() && t.get(t.size() - 1).equals(last);
        });
        return trail(jobId);
    }
}
