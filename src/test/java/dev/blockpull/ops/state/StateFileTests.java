package dev.blockpull.ops.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.blockpull.io.FaultInjectingBlockFile;
import dev.blockpull.io.FileChannelBlockFile;
import dev.blockpull.io.JournalEntry;
import dev.blockpull.job.IoStatus;
import dev.blockpull.job.JobResult;
import dev.blockpull.job.JobStatus;
import dev.blockpull.job.JobView;
import dev.blockpull.job.OnErrorPolicy;
import dev.blockpull.ops.state.ServiceState.ExportStep;
import dev.blockpull.ops.state.ServiceState.JobRecord;
import dev.blockpull.ops.state.ServiceState.NodeRecord;
import dev.blockpull.ops.state.ServiceState.NodeRef;
import dev.blockpull.ops.state.ServiceState.OpenStep;
import dev.blockpull.ops.state.ServiceState.SnapshotStep;
import dev.blockpull.stream.StreamOrigin;
import dev.blockpull.stream.StreamRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateFileTests {

    private static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");

    @TempDir
    Path dir;

    private final List<FaultInjectingBlockFile> opened = new ArrayList<>();

    /** A state file whose temporary file goes through the io fault wrapper, recording a journal. */
    private StateFile faultyFile() {
        return new StateFile(dir, Clock.fixed(T0, ZoneOffset.UTC), path -> {
            Files.createFile(path);
            FaultInjectingBlockFile f = new FaultInjectingBlockFile(FileChannelBlockFile.open(path, false, false));
            f.startJournal();
            opened.add(f);
            return f;
        });
    }

    static JobView job(String id, JobStatus status, boolean userPaused) {
        return new JobView(
                id,
                "stream",
                status,
                "top",
                1048576,
                8388608,
                65536,
                true,
                userPaused,
                IoStatus.OK,
                false,
                null,
                status == JobStatus.NULL ? JobResult.COMPLETED : null,
                0,
                null,
                T0,
                status == JobStatus.NULL ? T0 : null,
                true,
                true,
                12,
                1,
                T0,
                userPaused);
    }

    static ServiceState sample(String topName) {
        NodeRecord mid = new NodeRecord(null, "qcow2", "vm1/mid.qcow2", false, "header", null, null, true);
        NodeRecord top = new NodeRecord(topName, "qcow2", "vm1/top.qcow2", false, "nested", null, mid, false);
        StreamRequest request = new StreamRequest(
                "s1", topName, null, "#block003", null, null, 65536, OnErrorPolicy.STOP, null, true, false);
        StreamOrigin origin =
                new StreamOrigin("vm1/top.qcow2", "vm1/mid.qcow2", "vm1/base.qcow2", "vm1/base.qcow2", null);
        return new ServiceState(
                ServiceState.VERSION,
                List.of(
                        new OpenStep(top),
                        new ExportStep("e1", new NodeRef(topName, null), true, List.of("CN=hypervisor-1,O=Example")),
                        new SnapshotStep(
                                new NodeRef(topName, null),
                                "vm1/snap.qcow2",
                                new NodeRef("#block009", "vm1/snap.qcow2"))),
                List.of(new JobRecord(request, origin, job("s1", JobStatus.PAUSED, true))),
                List.of(job("old", JobStatus.NULL, false)),
                0);
    }

    @Test
    void whatIsWrittenIsReadBack() {
        StateFile file = new StateFile(dir);
        file.write(sample("top"));

        assertThat(file.read()).contains(sample("top"));
    }

    @Test
    void nothingRecordedReadsAsEmpty() {
        assertThat(new StateFile(dir).read()).isEmpty();
    }

    @Test
    void aStateFileOfVersionOneCheckedInIsRead() throws IOException {
        try (InputStream in = Objects.requireNonNull(getClass().getResourceAsStream("state-v1.json"))) {
            Files.write(dir.resolve(StateFile.NAME), in.readAllBytes());
        }

        ServiceState state = new StateFile(dir).read().orElseThrow();

        assertThat(state.version()).isEqualTo(1);
        assertThat(state.graph()).hasSize(3);
        assertThat(((OpenStep) state.graph().get(0)).node().nested()).isNotNull();
        assertThat(state.jobs()).singleElement().satisfies(j -> {
            assertThat(j.request().baseNode()).isEqualTo("#block003");
            assertThat(j.origin().backingAfter()).isEqualTo("vm1/base.qcow2");
            assertThat(j.view().status()).isEqualTo(JobStatus.PAUSED);
            assertThat(j.view().userPaused()).isTrue();
        });
        assertThat(state.history())
                .singleElement()
                .satisfies(h -> assertThat(h.result()).isEqualTo(JobResult.COMPLETED));
        assertThat(state.lastEventId())
                .as("a member the sample predates reads as its default")
                .isZero();
        assertThat(((ExportStep) state.graph().get(1)).allowedClientSubjects())
                .as("an export the sample predates the allow-list of admits any client")
                .isEmpty();
    }

    @Test
    void aCorruptFileIsAStartUpErrorNamingItAndIsKeptAside() throws IOException {
        Files.writeString(dir.resolve(StateFile.NAME), "{\"version\": 1, \"graph\": [{\"step\": \"op");

        assertThatThrownBy(faultyFile()::read)
                .isInstanceOf(UnreadableStateException.class)
                .hasMessageContaining(dir.resolve(StateFile.NAME).toString())
                .hasMessageContaining("state.json.unreadable-20261207T120000Z");
        assertThat(dir.resolve("state.json.unreadable-20261207T120000Z"))
                .content()
                .startsWith("{\"version\": 1, \"graph\"");
        assertThat(dir.resolve(StateFile.NAME)).doesNotExist();
    }

    @Test
    void aFileOfAnUnknownVersionIsAStartUpErrorNotAReset() throws IOException {
        Files.writeString(dir.resolve(StateFile.NAME), "{\"version\": 2, \"graph\": []}");

        assertThatThrownBy(faultyFile()::read)
                .isInstanceOf(UnreadableStateException.class)
                .hasMessageContaining("version 2 is unknown");
        assertThat(dir.resolve("state.json.unreadable-20261207T120000Z")).exists();
    }

    @Test
    void aSaveThatFailsMidwayLeavesTheOldState() {
        StateFile file = faultyFile();
        file.write(sample("old"));
        StateFile crashing = new StateFile(dir, Clock.systemUTC(), path -> {
            Files.createFile(path);
            FaultInjectingBlockFile f = new FaultInjectingBlockFile(FileChannelBlockFile.open(path, false, false));
            f.crashAtWrite(1);
            return f;
        });

        assertThatThrownBy(() -> crashing.write(sample("new"))).isInstanceOf(StateFile.UncheckedStateIoException.class);
        assertThat(file.read()).contains(sample("old"));
        assertThat(dir.resolve(StateFile.TEMP)).doesNotExist();
    }

    /**
     * A kill at any instant of a save: the temporary file holds any prefix of the new state (the
     * journal of the save's writes, replayed byte by byte), before or after its fsync; the
     * rename has not happened: the old state is read. After the rename: the new one.
     */
    @Test
    void everyPrefixOfASaveReopensToTheOldOrTheNewState() throws IOException {
        StateFile file = faultyFile();
        file.write(sample("old"));
        byte[] old = Files.readAllBytes(dir.resolve(StateFile.NAME));
        file.write(sample("new"));
        byte[] written = journalBytes(opened.get(1));
        assertThat(written).isEqualTo(Files.readAllBytes(dir.resolve(StateFile.NAME)));

        for (int k = 0; k <= written.length; k++) {
            Files.write(dir.resolve(StateFile.NAME), old);
            Files.write(dir.resolve(StateFile.TEMP), Arrays.copyOf(written, k));

            assertThat(new StateFile(dir).read())
                    .as("killed after %d of %d bytes", k, written.length)
                    .contains(sample("old"));
            assertThat(dir.resolve(StateFile.TEMP)).doesNotExist();
        }
        Files.write(dir.resolve(StateFile.NAME), written);
        assertThat(new StateFile(dir).read()).contains(sample("new"));
    }

    private static byte[] journalBytes(FaultInjectingBlockFile f) {
        byte[] out = new byte[0];
        for (JournalEntry e : Objects.requireNonNull(f.journal()).entries()) {
            if (e instanceof JournalEntry.Write w) {
                int end = (int) w.position() + w.data().length;
                out = Arrays.copyOf(out, Math.max(out.length, end));
                System.arraycopy(w.data(), 0, out, (int) w.position(), w.data().length);
            }
        }
        return out;
    }
}
