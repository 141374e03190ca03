package dev.blockpull.ops.state;

import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.FormatNode;
import dev.blockpull.graph.NodeGraph;
import dev.blockpull.graph.NodeName;
import dev.blockpull.job.JobEvent;
import dev.blockpull.job.JobEventBus;
import dev.blockpull.job.JobResult;
import dev.blockpull.job.JobResumption;
import dev.blockpull.job.JobScheduler;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.nbd.ExportRegistry;
import dev.blockpull.ops.state.ServiceState.ExportStep;
import dev.blockpull.ops.state.ServiceState.GraphStep;
import dev.blockpull.ops.state.ServiceState.JobRecord;
import dev.blockpull.ops.state.ServiceState.NodeRef;
import dev.blockpull.ops.state.ServiceState.OpenStep;
import dev.blockpull.ops.state.ServiceState.SnapshotStep;
import dev.blockpull.stream.StreamLauncher;
import dev.blockpull.stream.StreamOrigin;
import dev.blockpull.stream.StreamRequest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings back at start-up what the state file recorded: the graph steps in their order (a step
 * that fails is logged and forgotten, the others go on), the finished jobs' history, then the
 * jobs. A job whose completion had already rewritten its top's header comes back completed; one
 * whose images are gone or changed comes back failed, saying why; the others are set up again
 * with their id and arguments and resumed (paused if the user had paused them).
 */
final class StateRestorer {

    private static final Logger log = LoggerFactory.getLogger(StateRestorer.class);
    /**
     * How far event numbers jump at a restart: more than the events a run can publish between its
     * last save and a kill (every status change is saved; progress events are at most one a
     * second per job), so no number is given twice.
     */
    static final long EVENT_ID_GAP = 1_000_000;

    private final NodeGraph graph;
    private final ExportRegistry exports;
    private final StreamLauncher launcher;
    private final JobScheduler scheduler;
    private final boolean resumeJobs;
    private final Duration maxDrainWait;
    private final Clock clock;
    /** Why a step failed, by the file of the node it would have opened. */
    private final Map<String, String> lost = new LinkedHashMap<>();

    StateRestorer(
            NodeGraph graph,
            ExportRegistry exports,
            StreamLauncher launcher,
            JobScheduler scheduler,
            boolean resumeJobs,
            Duration maxDrainWait,
            Clock clock) {
        this.graph = graph;
        this.exports = exports;
        this.launcher = launcher;
        this.scheduler = scheduler;
        this.resumeJobs = resumeJobs;
        this.maxDrainWait = maxDrainWait;
        this.clock = clock;
    }

    /** Restores {@code state}; returns the graph steps that came back, to be recorded again. */
    List<GraphStep> restore(ServiceState state) {
        if (state.lastEventId() > 0) {
            scheduler.events().continueAfter(state.lastEventId() + EVENT_ID_GAP);
        }
        List<GraphStep> restored = new ArrayList<>();
        for (GraphStep step : state.graph()) {
            try {
                apply(step);
                restored.add(step);
            } catch (RuntimeException e) {
                String reason = graph.dataRoot().hidePaths(String.valueOf(e.getMessage()));
                lost.put(fileOf(step), reason);
                log.warn("Not restored after the restart: {} ({})", step, reason);
            }
        }
        for (JobView finished : state.history()) {
            // The age limit counts from the dismissal before the restart, not from the restore.
            scheduler.history().add(finished, Objects.requireNonNullElse(finished.finishedAt(), clock.instant()));
        }
        for (JobRecord job : state.jobs()) {
            restore(job);
        }
        log.info(
                "Restored {} of {} graph step(s), {} job(s) and {} finished job(s) from the state file",
                restored.size(),
                state.graph().size(),
                state.jobs().size(),
                state.history().size());
        return restored;
    }

    private void apply(GraphStep step) {
        if (step instanceof OpenStep o) {
            graph.open(NodeRecords.definition(o.node()));
        } else if (step instanceof SnapshotStep s) {
            graph.reattachSnapshot(
                    node(s.node()).name(),
                    s.file(),
                    NodeName.isGenerated(s.overlay().name())
                            ? null
                            : s.overlay().name(),
                    maxDrainWait);
        } else if (step instanceof ExportStep e) {
            exports.add(e.id(), node(e.node()).name(), e.writable(), e.allowedClientSubjects());
        }
    }

    private static String fileOf(GraphStep step) {
        if (step instanceof OpenStep o) {
            return o.node().file();
        }
        if (step instanceof SnapshotStep s) {
            return s.file();
        }
        ExportStep e = (ExportStep) step;
        return e.node().file() != null ? e.node().file() : e.node().name();
    }

    /** A recorded node: by its name, or by its file when the name was generated. */
    private BlockNode node(NodeRef ref) {
        if (ref.file() == null) {
            return graph.get(ref.name());
        }
        return formatNode(ref.file());
    }

    private BlockNode formatNode(String file) {
        for (BlockNode n : graph.nodes()) {
            if (n instanceof FormatNode && file.equals(graph.filename(n))) {
                return n;
            }
        }
        throw new IllegalStateException("No node of image '" + file + "' came back after the restart"
                + (lost.containsKey(file) ? ": " + lost.get(file) : ""));
    }

    // ---------------------------------------------------------------- jobs

    private void restore(JobRecord job) {
        JobView view = job.view();
        if (view.status() == JobStatus.CONCLUDED || view.status() == JobStatus.NULL) {
            scheduler
                    .history()
                    .add(view.dismissedAs(
                            Objects.requireNonNullElse(view.result(), JobResult.COMPLETED),
                            view.error(),
                            Objects.requireNonNullElse(view.finishedAt(), clock.instant())));
            return;
        }
        if (!resumeJobs) {
            finish(
                    view,
                    JobResult.CANCELLED,
                    "Operation canceled: the service restarted and blockpull.jobs.resume-on-start is false");
            return;
        }
        try {
            resume(job);
        } catch (RuntimeException e) {
            String reason = graph.dataRoot().hidePaths(String.valueOf(e.getMessage()));
            log.warn("Job {} is not resumed after the restart: {}", view.id(), reason);
            finish(view, JobResult.FAILED, "Not resumed after a restart: " + reason);
        }
    }

    private void resume(JobRecord job) {
        JobView view = job.view();
        StreamOrigin origin = job.origin();
        BlockNode top = formatNode(origin.topFile());
        BlockNode below = BackingChain.chainNext(top);
        String backing = below == null ? null : graph.filename(below);
        if (origin.completedWith(backing)) {
            log.info(
                    "Job {} had completed before the restart: {} names {} already",
                    view.id(),
                    origin.topFile(),
                    backing == null ? "no backing file" : backing);
            finish(view, JobResult.COMPLETED, null);
            return;
        }
        if (!Objects.equals(backing, origin.backingBefore())) {
            throw new IllegalStateException("the chain of '" + origin.topFile() + "' changed: it names "
                    + quote(backing) + " as its backing file, " + quote(origin.backingBefore())
                    + " when the job started");
        }
        StreamRequest r = job.request();
        StreamRequest again = new StreamRequest(
                r.jobId(),
                current(r.device(), origin.topFile()),
                r.base(),
                r.baseNode() == null ? null : current(r.baseNode(), origin.baseFile()),
                r.bottom() == null ? null : current(r.bottom(), origin.bottomFile()),
                r.backingFile(),
                view.speed(),
                r.onError(),
                r.filterNodeName(),
                r.autoFinalize(),
                r.autoDismiss());
        JobView resumed = launcher.resume(
                again, new JobResumption(view.createdAt(), view.restarts() + 1, clock.instant(), view.userPaused()));
        log.info(
                "Job {} resumed after the restart ({}, restart {})",
                resumed.id(),
                view.userPaused() ? "paused, as the user left it" : "running",
                resumed.restarts());
    }

    /** The node's name after the restart: generated names are looked up by the file they stood for. */
    private String current(String name, @Nullable String file) {
        return NodeName.isGenerated(name) && file != null ? formatNode(file).name() : name;
    }

    /**
     * Winds a recorded job up without running it, with the events its run would have ended with,
     * so that an event client replaying from before the restart learns the outcome.
     */
    private void finish(JobView view, JobResult result, @Nullable String error) {
        JobView done = view.dismissedAs(result, error, clock.instant());
        JobEventBus events = scheduler.events();
        if (result == JobResult.CANCELLED) {
            events.publish(new JobEvent.BlockJobCancelled(
                    done.type(), done.id(), done.totalProgress(), done.currentProgress(), done.speed()));
        } else {
            events.publish(new JobEvent.BlockJobCompleted(
                    done.type(), done.id(), done.totalProgress(), done.currentProgress(), done.speed(), error));
        }
        events.publish(new JobEvent.JobStatusChange(done.id(), JobStatus.CONCLUDED));
        events.publish(new JobEvent.JobStatusChange(done.id(), JobStatus.NULL));
        scheduler.history().add(done);
    }

    private static String quote(@Nullable String file) {
        return file == null ? "no file" : "'" + file + "'";
    }
}
