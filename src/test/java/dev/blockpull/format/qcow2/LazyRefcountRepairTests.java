package dev.blockpull.format.qcow2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.format.Image;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.format.ImageOpener;
import dev.blockpull.testsupport.CheckResult;
import dev.blockpull.testsupport.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image left dirty by a writer with lazy refcounts (QEMU killed mid-work) has refcounts lower
 * than its references. Like QEMU, a writable open repairs them and clears the dirty bit.
 */
class LazyRefcountRepairTests {

    @TempDir
    Path dir;

    private QemuTools qemu;
    private Path image;

    @BeforeEach
    void makeDirtyImage() {
        qemu = QemuTools.require();
        image = dir.resolve("lazy.qcow2");
        qemu.create(image, "qcow2", "64M", "-o", "lazy_refcounts=on");
        // qemu-io raises SIGKILL on itself after the writes: the image stays dirty.
        QemuTools.run(
                List.of(
                        qemu.qemuIoPath().toString(),
                        "-f",
                        "qcow2",
                        "-c",
                        "write -P 0x11 0 1M",
                        "-c",
                        "write -P 0x22 8M 2M",
                        "-c",
                        "sigraise 9",
                        image.toString()),
                QemuTools.DEFAULT_TIMEOUT);
    }

    @Test
    void qemuLeavesTheImageDirtyWithTooLowRefcounts() {
        assertThat(qemu.info(image).path("dirty-flag").asBoolean()).isTrue();
        assertThat(qemu.check(image).exitCode()).isEqualTo(CheckResult.CORRUPTED);
    }

    @Test
    void readOnlyOpenReadsTheDataWithoutTouchingTheImage() {
        try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, true)) {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            img.read(8 << 20, buf);
            assertThat(buf.array()).containsOnly((byte) 0x22);
            assertThat(img.details().dirty()).isTrue();
        }
        assertThat(qemu.info(image).path("dirty-flag").asBoolean()).isTrue();
    }

    @Test
    void writableOpenRepairsRefcountsAndClearsTheDirtyBit() {
        try (Image img = ImageOpener.open(image, ImageFormat.QCOW2, false)) {
            img.write(20 << 20, ByteBuffer.wrap(new byte[65536]));
        }
        assertThat(qemu.check(image).isClean()).isTrue();
        assertThat(qemu.info(image).path("dirty-flag").asBoolean()).isFalse();
        assertThat(qemu.readsPattern(image, 0, 1 << 20, 0x11)).isTrue();
        assertThat(qemu.readsPattern(image, 8 << 20, 2 << 20, 0x22)).isTrue();
    }
}
