package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The wire protocol in the corners real clients never visit, with a hand-rolled client. */
class NbdProtocolTests {

    static final int MIB = 1024 * 1024;

    @TempDir
    Path root;

    NbdFixture nbd;

    @BeforeEach
    void setUp() {
        QemuTools qemu = QemuTools.require();
        qemu.create(root.resolve("disk.qcow2"), "qcow2", "4M");
        qemu.io(root.resolve("disk.qcow2"), "qcow2", "write -P 0x5a 0 1M");
        nbd = new NbdFixture(root);
        nbd.open("disk", "disk.qcow2");
        nbd.export("rw", "disk", true);
        nbd.export("ro", "disk", false);
    }

    @AfterEach
    void tearDown() {
        nbd.close();
    }

    @Test
    void greetingIsFixedNewstyleWithNoZeroes() throws IOException {
        try (NbdTestClient c = NbdTestClient.raw(nbd.port())) {
            assertThat(c.handshakeFlags).isEqualTo(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
        }
    }

    @Test
    void goAnswersSizeFlagsAndBlockSizes() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "rw", true)) {
            assertThat(c.exportSize).isEqualTo(4 * MIB);
            assertThat(c.transmissionFlags
                            & (TFLAG_HAS_FLAGS
                                    | TFLAG_SEND_FLUSH
                                    | TFLAG_SEND_FUA
                                    | TFLAG_SEND_TRIM
                                    | TFLAG_SEND_WRITE_ZEROES
                                    | TFLAG_SEND_DF
                                    | TFLAG_CAN_MULTI_CONN))
                    .isEqualTo(TFLAG_HAS_FLAGS
                            | TFLAG_SEND_FLUSH
                            | TFLAG_SEND_FUA
                            | TFLAG_SEND_TRIM
                            | TFLAG_SEND_WRITE_ZEROES
                            | TFLAG_SEND_DF
                            | TFLAG_CAN_MULTI_CONN);
            assertThat(c.transmissionFlags & TFLAG_READ_ONLY).isZero();
        }
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "ro", false)) {
            assertThat(c.transmissionFlags & TFLAG_READ_ONLY).isEqualTo(TFLAG_READ_ONLY);
        }
    }

    @Test
    void unknownExportIsErrUnknownAndTheClientMayTryAnother() throws IOException {
        try (NbdTestClient c = NbdTestClient.raw(nbd.port())) {
            c.clientFlags(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
            List<NbdTestClient.OptionReply> r = c.option(OPT_GO, NbdTestClient.goData("nope"));
            assertThat(r.get(r.size() - 1).type()).isEqualTo(REP_ERR_UNKNOWN);
            c.expectAck(c.option(OPT_GO, NbdTestClient.goData("rw")));
            assertThat(c.readSimple(0, 16)).containsOnly(0x5a);
        }
    }

    @Test
    void unknownOptionsAreUnsupAndStarttlsIsRefusedByPolicy() throws IOException {
        try (NbdTestClient c = NbdTestClient.raw(nbd.port())) {
            c.clientFlags(CLIENT_FLAG_FIXED_NEWSTYLE);
            assertThat(c.option(4242, new byte[] {1, 2, 3}).get(0).type()).isEqualTo(REP_ERR_UNSUP);
            assertThat(c.option(OPT_STARTTLS, new byte[0]).get(0).type()).isEqualTo(REP_ERR_POLICY);
            assertThat(c.option(OPT_LIST, new byte[] {1}).get(0).type()).isEqualTo(REP_ERR_INVALID);
            assertThat(c.option(OPT_SET_META_CONTEXT, NbdTestClient.metaContextData("rw", "base:allocation"))
                            .get(0)
                            .type())
                    .as("meta contexts need structured replies first")
                    .isEqualTo(REP_ERR_INVALID);
            assertThat(c.option(OPT_ABORT, new byte[0]).get(0).type()).isEqualTo(REP_ACK);
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void listMetaContextOffersBaseAllocationAndAllocationDepth() throws IOException {
        try (NbdTestClient c = NbdTestClient.raw(nbd.port())) {
            c.clientFlags(CLIENT_FLAG_FIXED_NEWSTYLE);
            c.expectAck(c.option(OPT_STRUCTURED_REPLY, new byte[0]));
            List<NbdTestClient.OptionReply> all = c.option(OPT_LIST_META_CONTEXT, NbdTestClient.metaContextData("rw"));
            assertThat(all.stream()
                            .filter(r -> r.type() == REP_META_CONTEXT)
                            .map(r -> new String(r.data(), 4, r.data().length - 4, StandardCharsets.UTF_8)))
                    .containsExactly("base:allocation", "qemu:allocation-depth");
            List<NbdTestClient.OptionReply> set = c.option(
                    OPT_SET_META_CONTEXT, NbdTestClient.metaContextData("rw", "base:allocation", "other:thing"));
            assertThat(set).extracting(NbdTestClient.OptionReply::type).containsExactly(REP_META_CONTEXT, REP_ACK);
        }
    }

    @Test
    void exportNameOptionEntersTransmissionWithoutZeroPadding() throws IOException {
        try (NbdTestClient c = NbdTestClient.raw(nbd.port())) {
            c.clientFlags(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
            c.sendOption(OPT_EXPORT_NAME, "ro".getBytes(StandardCharsets.UTF_8));
            assertThat(c.in.readLong()).isEqualTo(4 * MIB);
            assertThat(c.in.readUnsignedShort() & TFLAG_READ_ONLY).isEqualTo(TFLAG_READ_ONLY);
            assertThat(c.readSimple(MIB - 16, 32)).containsSequence(0x5a, 0x5a).endsWith(0, 0);
        }
    }

    @Test
    void readOnlyExportRefusesEveryWriteWithEperm() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "ro", false)) {
            assertThat(c.command(CMD_WRITE, 0, 0, 512, new byte[512])).isEqualTo(EPERM);
            assertThat(c.command(CMD_WRITE_ZEROES, 0, 0, 4096, new byte[0])).isEqualTo(EPERM);
            assertThat(c.command(CMD_TRIM, 0, 0, 4096, new byte[0])).isEqualTo(EPERM);
            assertThat(c.command(CMD_FLUSH, 0, 0, 0, new byte[0])).isZero();
            assertThat(c.readSimple(0, 512)).containsOnly(0x5a);
        }
    }

    @Test
    void requestsPastTheEndAreEinval() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "rw", true, "base:allocation")) {
            long size = c.exportSize;
            assertThat(c.command(CMD_READ, 0, size - 512, 1024, new byte[0])).isEqualTo(EINVAL);
            assertThat(c.command(CMD_READ, 0, -1, 1, new byte[0])).isEqualTo(EINVAL);
            assertThat(c.command(CMD_WRITE, 0, size, 512, new byte[512])).isEqualTo(EINVAL);
            assertThat(c.command(CMD_WRITE_ZEROES, 0, size - 4096, 8192, new byte[0]))
                    .isEqualTo(EINVAL);
            assertThat(c.command(CMD_TRIM, 0, Long.MAX_VALUE, 4096, new byte[0]))
                    .isEqualTo(EINVAL);
            assertThat(c.command(CMD_BLOCK_STATUS, 0, size, 512, new byte[0])).isEqualTo(EINVAL);
            assertThat(c.command(CMD_CACHE, 0, size + 1, 0, new byte[0])).isEqualTo(EINVAL);
            assertThat(c.command(99, 0, 0, 0, new byte[0])).isEqualTo(EINVAL);
            // the connection goes on serving
            assertThat(c.command(CMD_READ, 0, size - 512, 512, new byte[0])).isZero();
        }
    }

    @Test
    void readsAboveTheMaximumAreEinvalAndWritesAboveItDisconnect() throws IOException {
        int max = NbdServerSettings.DEFAULT_MAX_REQUEST_SIZE;
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "rw", false)) {
            assertThat(c.command(CMD_READ, 0, 0, max + 1L, new byte[0])).isEqualTo(EINVAL);
            c.send(0, CMD_WRITE, 1, 0, max + 1L, new byte[0]);
            assertThat(c.closedByServer()).isTrue();
        }
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(nbd.server.connectionCount()).isZero());
        assertThat(nbd.server.buffers().outstanding()).isZero();
    }

    @Test
    void writeZeroesTrimAndFuaWritesReadBack() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "rw", false)) {
            byte[] data = new byte[8192];
            Arrays.fill(data, (byte) 0x61);
            assertThat(c.command(CMD_WRITE, CMD_FLAG_FUA, 2 * MIB, data.length, data))
                    .isZero();
            assertThat(c.readSimple(2 * MIB, 8192)).containsOnly(0x61);
            assertThat(c.command(CMD_WRITE_ZEROES, CMD_FLAG_NO_HOLE, 2 * MIB, 4096, new byte[0]))
                    .isZero();
            assertThat(c.readSimple(2 * MIB, 4096)).containsOnly(0);
            assertThat(c.command(CMD_WRITE_ZEROES, CMD_FLAG_FAST_ZERO, 0, 4096, new byte[0]))
                    .isEqualTo(ENOTSUP);
            assertThat(c.command(CMD_TRIM, CMD_FLAG_FUA, 0, 65536, new byte[0])).isZero();
            assertThat(c.readSimple(0, 65536)).containsOnly(0);
            assertThat(c.readSimple(65536, 16)).containsOnly(0x5a);
            assertThat(c.command(CMD_CACHE, 0, 0, MIB, new byte[0])).isZero();
        }
    }

    @Test
    void structuredReadsSendHolesAndDataAndHonourDontFragment() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "ro", true)) {
            int len = 2 * MIB;
            c.send(0, CMD_READ, 5, 0, len, new byte[0]);
            byte[] assembled = new byte[len];
            Set<Integer> types = new HashSet<>();
            NbdTestClient.Reply r;
            do {
                r = c.readReply();
                types.add(r.type());
                ByteBuffer p = ByteBuffer.wrap(r.payload());
                int at = (int) p.getLong();
                if (r.type() == CHUNK_OFFSET_DATA) {
                    p.get(assembled, at, p.remaining());
                } else {
                    assertThat(r.type()).isEqualTo(CHUNK_OFFSET_HOLE);
                }
            } while (!r.done());
            assertThat(types).containsExactlyInAnyOrder(CHUNK_OFFSET_DATA, CHUNK_OFFSET_HOLE);
            assertThat(Arrays.copyOfRange(assembled, 0, MIB)).containsOnly(0x5a);
            assertThat(Arrays.copyOfRange(assembled, MIB, len)).containsOnly(0);

            c.send(CMD_FLAG_DF, CMD_READ, 6, 0, len, new byte[0]);
            r = c.readReply();
            assertThat(r.done()).isTrue();
            assertThat(r.type()).isEqualTo(CHUNK_OFFSET_DATA);
            assertThat(r.payload()).hasSize(8 + len);
        }
    }

    @Test
    void blockStatusNeedsANegotiatedContextAndHonoursReqOne() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "ro", true)) {
            assertThat(c.command(CMD_BLOCK_STATUS, 0, 0, 4096, new byte[0])).isEqualTo(EINVAL);
        }
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "ro", true, "base:allocation", "qemu:allocation-depth")) {
            c.send(CMD_FLAG_REQ_ONE, CMD_BLOCK_STATUS, 8, 0, 4 * MIB, new byte[0]);
            NbdTestClient.Reply base = c.readReply();
            NbdTestClient.Reply depth = c.readReply();
            assertThat(base.done()).isFalse();
            assertThat(depth.done()).isTrue();
            ByteBuffer b = ByteBuffer.wrap(base.payload());
            assertThat(b.getInt()).isEqualTo(CONTEXT_ID_BASE_ALLOCATION);
            assertThat(b.getInt()).isEqualTo(MIB);
            assertThat(b.getInt()).isZero();
            assertThat(b.hasRemaining()).isFalse();
            ByteBuffer d = ByteBuffer.wrap(depth.payload());
            assertThat(d.getInt()).isEqualTo(CONTEXT_ID_ALLOCATION_DEPTH);
            assertThat(d.getInt()).isEqualTo(MIB);
            assertThat(d.getInt()).isEqualTo(1);
        }
    }

    @Test
    void manyPipelinedRequestsAllGetTheirReply() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "rw", false)) {
            int n = 500;
            for (int i = 0; i < n; i++) {
                if (i % 2 == 0) {
                    byte[] data = new byte[4096];
                    Arrays.fill(data, (byte) i);
                    c.send(0, CMD_WRITE, 1000 + i, 2L * MIB + (long) i * 4096, data.length, data);
                } else {
                    c.send(0, CMD_FLUSH, 1000 + i, 0, 0, new byte[0]);
                }
            }
            Set<Long> answered = new HashSet<>();
            for (int i = 0; i < n; i++) {
                NbdTestClient.Reply r = c.readReply();
                assertThat(r.error()).isZero();
                answered.add(r.cookie());
            }
            assertThat(answered).hasSize(n);
            assertThat(c.readSimple(2L * MIB + 4 * 4096, 4096)).containsOnly(4);
        }
    }

    @Test
    void severalConnectionsWriteConcurrentlyAndEachSeesTheOthersAfterFlush() throws Exception {
        int clients = 4;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(clients);
        try {
            List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int k = 0; k < clients; k++) {
                int id = k;
                done.add(pool.submit(() -> {
                    try (NbdTestClient c = NbdTestClient.go(nbd.port(), "rw", true)) {
                        byte[] data = new byte[65536];
                        Arrays.fill(data, (byte) (0x70 + id));
                        for (int i = 0; i < 8; i++) {
                            c.send(0, CMD_WRITE, i, (long) id * MIB + (long) i * 65536, data.length, data);
                        }
                        for (int i = 0; i < 8; i++) {
                            assertThat(c.readReply().error()).isZero();
                        }
                        assertThat(c.command(CMD_FLUSH, 0, 0, 0, new byte[0])).isZero();
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "ro", true)) {
            for (int k = 0; k < clients; k++) {
                assertThat(c.readSimpleStructured((long) k * MIB, 8 * 65536)).containsOnly(0x70 + k);
            }
        }
    }

    @Test
    void disconnectAnswersOutstandingWritesFirst() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "rw", false)) {
            byte[] data = new byte[MIB];
            Arrays.fill(data, (byte) 0x42);
            for (int i = 0; i < 4; i++) {
                c.send(0, CMD_WRITE, i, (long) i * MIB, data.length, data);
            }
            c.disconnect();
            for (int i = 0; i < 4; i++) {
                assertThat(c.readReply().error()).isZero();
            }
            assertThat(c.closedByServer()).isTrue();
        }
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "rw", false)) {
            assertThat(c.readSimple(3L * MIB, MIB)).containsOnly(0x42);
        }
    }

    @Test
    void silentClientsAreDroppedAfterTheHandshakeTimeout() throws IOException {
        nbd.close();
        nbd = new NbdFixture(
                root, NbdServerSettings.defaults("127.0.0.1", 0).withHandshakeTimeout(Duration.ofMillis(300)));
        try (NbdTestClient c = NbdTestClient.raw(nbd.port())) {
            assertThat(c.closedByServer()).isTrue();
        }
    }

    @Test
    void removingAnExportDisconnectsItsClientsAndRefusesNewOnes() throws IOException {
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "ro", false)) {
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> nbd.exports.get("ro").clientCount() == 1);
            nbd.unexport("ro");
            assertThat(c.closedByServer()).isTrue();
        }
        assertThatThrownBy(() -> NbdTestClient.go(nbd.port(), "ro", false)).hasMessageContaining("refused");
    }
}
