package dev.blockpull.graph;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plain-Java hooks the metrics read: drain listeners and the image I/O counters of format nodes. */
class GraphObserverTests {

    @TempDir
    Path dir;

    GraphFixture fx;
    FormatNode top;

    @BeforeEach
    void setUp() {
        Chains.baseMidTop(QemuTools.require(), dir);
        fx = new GraphFixture(dir);
        top = fx.open("top", "top.qcow2");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void aDrainListenerHearsEverySectionEndUntilItsRegistrationCloses() {
        List<Long> ended = new CopyOnWriteArrayList<>();
        DrainCoordinator.Registration registration = fx.graph.drains().addListener(ended::add);

        try (DrainedSection ignored = fx.graph.drain(top)) {
            assertThat(ended).isEmpty();
        }
        assertThat(ended).hasSize(1);
        assertThat(ended.get(0)).as("section duration in nanoseconds").isNotNegative();

        registration.close();
        fx.graph.drain(top).close();
        assertThat(ended).hasSize(1);
    }

    @Test
    void aThrowingDrainListenerDoesNotBreakTheSection() {
        fx.graph.drains().addListener(nanos -> {
            throw new IllegalStateException("boom");
        });
        DrainedSection section = fx.graph.drain(top);
        section.close();
        assertThat(section.covers(top)).isFalse();
    }

    @Test
    void formatNodesCountTheBytesTheyReadFromAndWriteToTheirImage() {
        Attachment guest = fx.graph.attach(Holder.export("vm1"), top, true, Set.of(), EnumSet.allOf(Permission.class));
        NodeIoCounters io = top.io();
        assertThat(io.readBytes()).isZero();
        assertThat(io.writtenBytes()).isZero();

        guest.write(0, ByteBuffer.allocate(4096));
        guest.read(0, ByteBuffer.allocate(4096));

        assertThat(io.writtenBytes()).isEqualTo(4096);
        assertThat(io.readBytes()).isEqualTo(4096);
        assertThat(io.readErrors()).isZero();
        assertThat(io.writeErrors()).isZero();
    }
}
