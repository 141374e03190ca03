package dev.blockpull.ops.state;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.blockpull.job.JobView;
import dev.blockpull.stream.StreamOrigin;
import dev.blockpull.stream.StreamRequest;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The state file's content, version {@value #VERSION}: what users asked for, in the order they
 * asked for it. A new member in a later version must have a default that means "as before";
 * anything else bumps the version and reads older ones through an upgrade in {@link StateFile}.
 *
 * @param version the format version, {@value #VERSION}
 * @param graph   node opens, snapshots and exports, replayed in this order at start-up
 * @param jobs    stream jobs not dismissed yet
 * @param history dismissed jobs, oldest first (bounded like the in-memory history)
 * @param lastEventId the sequence number of the newest job event when saved (0: none)
 */
public record ServiceState(
        int version, List<GraphStep> graph, List<JobRecord> jobs, List<JobView> history, long lastEventId) {

    public static final int VERSION = 1;

    /** Members missing from a file read as empty. */
    public ServiceState {
        graph = graph == null ? List.of() : List.copyOf(graph);
        jobs = jobs == null ? List.of() : List.copyOf(jobs);
        history = history == null ? List.of() : List.copyOf(history);
    }

    public static ServiceState empty() {
        return new ServiceState(VERSION, List.of(), List.of(), List.of(), 0);
    }

    /** One change of the graph a user made. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "step")
    @JsonSubTypes({
        @JsonSubTypes.Type(value = OpenStep.class, name = "open"),
        @JsonSubTypes.Type(value = SnapshotStep.class, name = "snapshot"),
        @JsonSubTypes.Type(value = ExportStep.class, name = "export")
    })
    public sealed interface GraphStep permits OpenStep, SnapshotStep, ExportStep {}

    /** {@code POST /nodes}. */
    public record OpenStep(NodeRecord node) implements GraphStep {}

    /** {@code POST /nodes/{node}/snapshot}: the overlay exists once recorded. */
    public record SnapshotStep(NodeRef node, String file, NodeRef overlay) implements GraphStep {}

    /**
     * {@code POST /exports}.
     *
     * @param allowedClientSubjects the export's allow-list of client certificate subjects; absent
     *                              from files written before it existed, where it reads as empty
     */
    public record ExportStep(String id, NodeRef node, boolean writable, List<String> allowedClientSubjects)
            implements GraphStep {

        public ExportStep {
            allowedClientSubjects = allowedClientSubjects == null ? List.of() : List.copyOf(allowedClientSubjects);
        }
    }

    /**
     * A node as a definition names it.
     *
     * @param name its name when recorded
     * @param file its image (relative to the data root) when the name was generated: generated
     *             names are accidents of the order things happened in, the file is what it is
     */
    public record NodeRef(String name, @Nullable String file) {}

    /**
     * A format node definition ({@code NodeDefinition}).
     *
     * @param backing      {@code header}, {@code none}, {@code node} ({@link #backingNode}) or
     *                     {@code nested} ({@link #nested})
     */
    public record NodeRecord(
            @Nullable String nodeName,
            String driver,
            String file,
            boolean fileReadOnly,
            String backing,
            @Nullable String backingNode,
            @Nullable NodeRecord nested,
            boolean readOnly) {}

    /**
     * A stream job.
     *
     * @param request its arguments, the job id resolved
     * @param origin  its chain at the start, by file
     * @param view    the job as last recorded: status, speed, user pause, creation, restarts
     */
    public record JobRecord(StreamRequest request, StreamOrigin origin, JobView view) {}
}
