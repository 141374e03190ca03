package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.io.BufferPool;
import dev.blockpull.io.DirectMemory;
import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server short of direct memory answers ENOMEM and keeps the connection. */
class NbdMemoryTests {

    private static final int MIB = 1024 * 1024;
    /** Buffers up to this size can be made; larger ones fail as the JDK fails past MaxDirectMemorySize. */
    private static final int MAKEABLE = 256 * 1024;

    @TempDir
    Path root;

    private final BufferPool pool = new BufferPool(32 * MIB, 0, new DirectMemory(() -> 0, 64L * MIB, size -> {
        if (size > MAKEABLE + 8192) {
            throw new OutOfMemoryError("Cannot reserve " + size + " bytes of direct buffer memory");
        }
        return ByteBuffer.allocateDirect(size);
    }));

    private NbdFixture nbd;

    @BeforeEach
    void setUp() {
        QemuTools.require().create(root.resolve("disk.qcow2"), "qcow2", "4M");
        nbd = new NbdFixture(root, NbdServerSettings.defaults("127.0.0.1", 0), null, pool);
        nbd.open("disk", "disk.qcow2");
        nbd.export("rw", "disk", true);
    }

    @AfterEach
    void tearDown() {
        nbd.close();
    }

    @Test
    void aWriteWhoseDataHasNoMemoryFailsWithEnomemAndTheConnectionGoesOn() throws IOException {
        byte[] small = new byte[4096];
        Arrays.fill(small, (byte) 0x7e);
        try (NbdTestClient c = NbdTestClient.go(nbd.port(), "rw", false)) {
            assertThat(c.command(CMD_WRITE, 0, 0, MIB, new byte[MIB])).isEqualTo(ENOMEM);

            assertThat(c.command(CMD_WRITE, 0, 0, small.length, small)).isZero();
            assertThat(c.readSimple(0, small.length)).isEqualTo(small);
        }
        // A buffer goes back just after its reply is sent.
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(
                        () -> assertThat(nbd.server.buffers().outstanding()).isZero());
    }
}
