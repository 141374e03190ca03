package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.CMD_FLUSH;
import static dev.blockpull.nbd.NbdProtocol.CMD_READ;
import static dev.blockpull.nbd.NbdProtocol.ESHUTDOWN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.blockpull.format.ExtentKind;
import dev.blockpull.graph.AttachmentClosedException;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.graph.CopyOnReadFilter;
import dev.blockpull.graph.DrainedSection;
import dev.blockpull.graph.NodeInUseException;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exports as users of the graph: in-flight accounting, drains, removal, node ownership. */
class ExportRegistryTests {

    @TempDir
    Path root;

    QemuTools qemu;
    NbdFixture nbd;

    @BeforeEach
    void setUp() {
        qemu = QemuTools.require();
        qemu.create(root.resolve("disk.qcow2"), "qcow2", "4M");
        qemu.io(root.resolve("disk.qcow2"), "qcow2", "write -P 0x5a 0 1M");
        nbd = new NbdFixture(root);
        nbd.open("disk", "disk.qcow2");
    }

    @AfterEach
    void tearDown() {
        nbd.close();
    }

    @Test
    void nbdRequestsWaitWhileTheNodeIsDrainedAndThenComplete() throws IOException {
        NbdExport export = nbd.export("vm1", "disk", true);
        BlockNode disk = nbd.graph.get("disk");
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "vm1", false)) {
            DrainedSection section = nbd.graph.drain(disk);
            try {
                c.send(0, CMD_READ, 1, 0, 4096, new byte[0]);
                await().atMost(Duration.ofSeconds(10)).until(() -> export.inFlightRequests() == 1);
                assertThat(disk.requests().inFlight())
                        .as("held at the node's door")
                        .isZero();
            } finally {
                section.close();
            }
            NbdTestClient.Reply r = c.readReply();
            assertThat(r.error()).isZero();
            byte[] data = new byte[4096];
            c.in.readFully(data);
            assertThat(data).containsOnly(0x5a);
        }
    }

    @Test
    void removalWaitsForRequestsInFlightThenDisconnects() throws IOException {
        NbdExport export = nbd.export("vm1", "disk", true);
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "vm1", false)) {
            DrainedSection section = nbd.graph.drain(nbd.graph.get("disk"));
            CompletableFuture<Void> removal;
            try {
                c.send(0, CMD_READ, 1, 0, 4096, new byte[0]);
                await().atMost(Duration.ofSeconds(10)).until(() -> export.inFlightRequests() == 1);
                removal = CompletableFuture.runAsync(() -> nbd.unexport("vm1"));
                await().atMost(Duration.ofSeconds(10)).until(export::isClosing);
                assertThat(removal).as("waits for the drained request").isNotDone();
            } finally {
                section.close();
            }
            assertThat(c.readReply().error())
                    .as("the request was answered before the disconnect")
                    .isZero();
            byte[] data = new byte[4096];
            c.in.readFully(data);
            assertThat(data).containsOnly(0x5a);
            removal.join();
            assertThat(c.closedByServer()).isTrue();
        }
        assertThat(nbd.graph.get("disk").attachments()).isEmpty();
        assertThat(nbd.server.buffers().outstanding()).isZero();
    }

    @Test
    void aRequestThroughAClosedAttachmentIsAnsweredEshutdown() throws IOException {
        NbdExport export = nbd.export("vm1", "disk", true);
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "vm1", true)) {
            export.attachment().close(); // as a removal racing the request leaves it

            assertThatThrownBy(() -> export.attachment().flush())
                    .isInstanceOf(AttachmentClosedException.class)
                    .extracting(e -> ((BlockException) e).kind())
                    .isEqualTo(BlockErrorKind.CONFLICT);
            assertThat(c.command(CMD_FLUSH, 0, 0, 0, new byte[0])).isEqualTo(ESHUTDOWN);
        }
    }

    @Test
    void anExportedNodeCannotBeDeletedUntilTheExportIsGone() {
        nbd.export("vm1", "disk", false);

        assertThat(nbd.graph.usedBy(nbd.graph.get("disk"))).containsExactly("vm1");
        assertThatThrownBy(() -> nbd.graph.close("disk", Duration.ofSeconds(5)))
                .isInstanceOf(NodeInUseException.class)
                .hasMessageContaining("vm1");

        nbd.unexport("vm1");
        nbd.graph.close("disk", Duration.ofSeconds(5));
        assertThat(nbd.graph.find("disk")).isEmpty();
    }

    @Test
    void duplicateIdsUnknownNodesAndWritableExportsOfReadOnlyNodesAreRefused() {
        nbd.export("vm1", "disk", false);

        assertThatThrownBy(() -> nbd.export("vm1", "disk", false))
                .isInstanceOf(BlockException.class)
                .satisfies(e -> assertThat(((BlockException) e).kind()).isEqualTo(BlockErrorKind.CONFLICT));
        assertThatThrownBy(() -> nbd.export("vm2", "nope", false))
                .isInstanceOf(BlockException.class)
                .satisfies(e -> assertThat(((BlockException) e).kind()).isEqualTo(BlockErrorKind.NOT_FOUND));
        assertThatThrownBy(() -> nbd.unexport("nope"))
                .isInstanceOf(BlockException.class)
                .satisfies(e -> assertThat(((BlockException) e).kind()).isEqualTo(BlockErrorKind.NOT_FOUND));
    }

    @Test
    void readsThroughTheExportGoThroughACopyOnReadFilterInsertedLater() throws IOException {
        Chains.baseMidTop(qemu, Files.createDirectories(root.resolve("vm")));
        BlockNode top = nbd.open("top", "vm/top.qcow2");
        nbd.export("vm1", "top", true);
        CopyOnReadFilter filter;
        try (DrainedSection section = nbd.graph.drain(top)) {
            filter = nbd.graph.insertCopyOnReadFilter(section, top, null, null);
        }
        assertThat(nbd.exports.get("vm1").attachment().root()).isSameAs(filter);
        assertThat(top.blockStatus(0, 65536).get(0).kind())
                .as("base data, not in the top yet")
                .isEqualTo(ExtentKind.UNALLOCATED);

        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "vm1", false)) {
            assertThat(c.readSimple(0, 65536)).containsOnly(0x11);
        }

        assertThat(top.blockStatus(0, 65536).get(0).kind())
                .as("copied up by the read")
                .isEqualTo(ExtentKind.DATA);
    }
}
