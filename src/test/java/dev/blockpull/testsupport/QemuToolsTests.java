package dev.blockpull.testsupport;

import static dev.blockpull.testsupport.Chains.KIB;
import static dev.blockpull.testsupport.Chains.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;
import tools.jackson.databind.JsonNode;

/** The wrapper against the real qemu-img and qemu-io: no Blockpull code involved. */
class QemuToolsTests {

    private static QemuTools qemu;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        qemu = QemuTools.require();
    }

    // ------------------------------------------------------------------ availability

    @Test
    void missingToolSkipsTheTestOutsideCi() {
        assertThatThrownBy(() -> QemuTools.requireTool("blockpull-no-such-tool", "/nonexistent", false))
                .isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("blockpull-no-such-tool is not installed");
    }

    @Test
    void missingToolFailsTheTestUnderCi() {
        assertThatThrownBy(() -> QemuTools.requireTool("qemu-no-such-tool", "/nonexistent", true))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("CI=true")
                .hasMessageContaining("apt-get install qemu-utils");
    }

    @Test
    void toolIsFoundOnThePath() {
        Path sh = QemuTools.requireTool("sh", "/nonexistent:/bin:/usr/bin", true);
        assertThat(sh.getFileName().toString()).isEqualTo("sh");
        assertThat(QemuTools.isInstalled("qemu-img")).isTrue();
    }

    // ------------------------------------------------------------------ processes

    @Test
    void processThatOutlivesTheTimeoutIsKilledAndFails() {
        assertThatThrownBy(
                        () -> QemuTools.run(List.of("sh", "-c", "echo started; exec sleep 60"), Duration.ofMillis(300)))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("timed out after 300 ms")
                .hasMessageContaining("started");
    }

    @Test
    void largeOutputOnBothStreamsIsCapturedWithoutDeadlock() {
        ProcessResult r = QemuTools.run(
                List.of(
                        "sh",
                        "-c",
                        "head -c 1000000 /dev/zero | tr '\\0' o; head -c 1000000 /dev/zero | tr '\\0' e >&2; exit 7"),
                Duration.ofSeconds(60));
        assertThat(r.exitCode()).isEqualTo(7);
        assertThat(r.stdout()).hasSize(1_000_000);
        assertThat(r.stderr()).hasSize(1_000_000);
    }

    // ------------------------------------------------------------------ create and qemu-io

    @Test
    void createWritesAnImageOfTheRequestedShape() {
        Path img = dir.resolve("a.qcow2");
        qemu.create(img, "qcow2", "3M", "-o", "cluster_size=4k,compat=0.10");
        JsonNode info = qemu.info(img);
        assertThat(info.path("virtual-size").asLong()).isEqualTo(3 * MIB);
        assertThat(info.path("cluster-size").asLong()).isEqualTo(4 * KIB);
        assertThat(info.path("format-specific").path("data").path("compat").asString())
                .isEqualTo("0.10");
        assertThat(QemuTools.formatOf(img)).isEqualTo("qcow2");

        Path raw = dir.resolve("a.raw");
        qemu.create(raw, "raw", "1M");
        assertThat(QemuTools.formatOf(raw)).isEqualTo("raw");
        assertThat(QemuTools.formatOf(dir.resolve("missing"))).isNull();
    }

    @Test
    void ioWritesPatternsThatReadBack() {
        Path img = dir.resolve("a.qcow2");
        qemu.create(img, "qcow2", "1M");
        qemu.io(img, "qcow2", QemuPattern.write(0, 64 * KIB, 0xab), QemuPattern.write(100, 10, 0x01));

        assertThat(qemu.readsPattern(img, 0, 100, 0xab)).isTrue();
        assertThat(qemu.readsPattern(img, 100, 10, 0x01)).isTrue();
        assertThat(qemu.readsPattern(img, 0, 64 * KIB, 0xab)).isFalse();
        assertThat(qemu.readsPattern(img, 64 * KIB, 64 * KIB, 0)).isTrue();
        AssertImages.assertReadsPattern(img, 110, 1000, 0xab);
    }

    @Test
    void ioFailsOnANonZeroExit() {
        Path img = dir.resolve("a.qcow2");
        qemu.create(img, "qcow2", "1M");
        assertThatThrownBy(() -> qemu.io(img, "qcow2", QemuPattern.write(2 * MIB, 64 * KIB, 1)))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("write failed");
        assertThatThrownBy(() -> qemu.io(img, "qcow2", QemuPattern.read(0, 512, 0x55)))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Pattern verification failed");
    }

    @Test
    void ioFailsOnAFailedCommandEvenWhenQemuIoExitsZero() {
        Path img = dir.resolve("a.qcow2");
        qemu.create(img, "qcow2", "1M");
        String beyondTheEnd = "aio_write -P 0x01 2M 64k";

        ProcessResult unchecked = qemu.ioUnchecked(img, "qcow2", beyondTheEnd);
        assertThat(unchecked.exitCode())
                .as("qemu-io 7.2 exits 0 here: the reason for the output check")
                .isZero();
        assertThat(unchecked.output()).contains("aio_write failed");

        assertThatThrownBy(() -> qemu.io(img, "qcow2", beyondTheEnd))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("aio_write failed");
    }

    // ------------------------------------------------------------------ map

    @Test
    void mapOfAChainIsParsedWithDepthsAndOffsets() {
        Path base = dir.resolve("base.qcow2");
        Path mid = dir.resolve("mid.qcow2");
        Path top = dir.resolve("top.qcow2");
        qemu.create(base, "qcow2", "4M");
        qemu.io(base, "qcow2", QemuPattern.write(0, 64 * KIB, 0x11));
        qemu.createOverlay(mid, base, "-o", "size=1M");
        qemu.io(mid, "qcow2", QemuPattern.write(64 * KIB, 64 * KIB, 0x22), QemuPattern.zero(128 * KIB, 64 * KIB));
        qemu.createOverlay(top, mid, "-o", "size=4M");
        qemu.io(top, "qcow2", QemuPattern.write(2 * MIB, 4 * KIB, 0x33));

        List<MapEntry> map = qemu.map(top);

        assertThat(map.get(0).start()).isZero();
        assertThat(map.get(map.size() - 1).end()).isEqualTo(4 * MIB);
        for (int i = 1; i < map.size(); i++) {
            assertThat(map.get(i).start())
                    .as("runs are adjacent")
                    .isEqualTo(map.get(i - 1).end());
        }
        MapEntry baseData = entryAt(map, 0);
        assertThat(baseData)
                .extracting(MapEntry::length, MapEntry::depth, MapEntry::present, MapEntry::data, MapEntry::zero)
                .containsExactly(64 * KIB, 2, true, true, false);
        assertThat(baseData.offset()).isNotNull();
        assertThat(entryAt(map, 64 * KIB))
                .extracting(MapEntry::depth, MapEntry::present, MapEntry::data)
                .containsExactly(1, true, true);
        MapEntry midZero = entryAt(map, 128 * KIB);
        assertThat(midZero)
                .extracting(MapEntry::depth, MapEntry::present, MapEntry::zero, MapEntry::data)
                .containsExactly(1, true, true, false);
        assertThat(midZero.offset()).isNull();
        MapEntry hole = entryAt(map, 512 * KIB);
        assertThat(hole)
                .extracting(MapEntry::present, MapEntry::zero, MapEntry::data)
                .containsExactly(false, true, false);
        assertThat(hole.offset()).isNull();
        MapEntry topData = entryAt(map, 2 * MIB);
        assertThat(topData)
                .extracting(MapEntry::start, MapEntry::length, MapEntry::depth, MapEntry::data)
                .as("a 4K write allocates the whole 64K cluster")
                .containsExactly(2 * MIB, 64 * KIB, 0, true);
    }

    @Test
    void mapJsonWithoutOffsetsParses() {
        List<MapEntry> map = QemuTools.parseMap("""
                [{ "start": 0, "length": 131072, "depth": 0, "present": true, "zero": false, "data": true},
                { "start": 131072, "length": 917504, "depth": 1, "present": false, "zero": true, "data": false,
                  "offset": 327680, "compressed": false}]""");
        assertThat(map)
                .containsExactly(
                        new MapEntry(0, 131072, 0, true, false, true, null),
                        new MapEntry(131072, 917504, 1, false, true, false, 327680L));
    }

    private static MapEntry entryAt(List<MapEntry> map, long offset) {
        return map.stream().filter(e -> e.contains(offset)).findFirst().orElseThrow();
    }

    // ------------------------------------------------------------------ check

    @Test
    void checkOfAFreshImageIsClean() {
        Path img = dir.resolve("a.qcow2");
        qemu.create(img, "qcow2", "1M");
        qemu.io(img, "qcow2", QemuPattern.write(0, 128 * KIB, 0x11));

        CheckResult r = qemu.check(img);

        assertThat(r.exitCode()).isEqualTo(CheckResult.CONSISTENT);
        assertThat(r.isClean()).isTrue();
        assertThat(r.output()).contains("\"check-errors\": 0");
        AssertImages.assertCheckClean(img);
    }

    @Test
    void clearingAnL2EntryLeaksItsClusterAndCheckCountsIt() {
        Path img = dir.resolve("leaky.qcow2");
        qemu.create(img, "qcow2", "1M");
        qemu.io(img, "qcow2", QemuPattern.write(0, 64 * KIB, 0x11), QemuPattern.write(64 * KIB, 64 * KIB, 0x22));
        long host = Qcow2Surgery.hostOffset(img, 64 * KIB);
        assertThat(host).isPositive();
        assertThat(Qcow2Surgery.refcount(img, host)).isEqualTo(1);

        Qcow2Surgery.clearL2Entry(img, 64 * KIB);

        CheckResult r = qemu.check(img);
        assertThat(r.exitCode()).isEqualTo(CheckResult.LEAKED);
        assertThat(r.leaks()).isEqualTo(1);
        assertThat(r.corruptions()).isZero();
        assertThat(r.checkErrors()).isZero();
        assertThat(r.stderr()).contains("Leaked cluster " + host / (64 * KIB) + " refcount=1 reference=0");
        assertThat(r.isCleanOrLeaksOnly()).isTrue();
        assertThat(r.isClean()).isFalse();
        AssertImages.assertCheckCleanOrLeaksOnly(img);
        assertThatThrownBy(() -> AssertImages.assertCheckClean(img))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("leaks=1");
        assertThat(qemu.readsPattern(img, 64 * KIB, 64 * KIB, 0))
                .as("the cluster reads as unallocated")
                .isTrue();

        CheckResult repaired = qemu.check(img, "-r", "leaks");
        assertThat(repaired.exitCode()).isEqualTo(CheckResult.CONSISTENT);
        assertThat(repaired.leaksFixed()).isEqualTo(1);
        AssertImages.assertCheckClean(img);
    }

    @Test
    void droppingTheRefcountOfAUsedClusterIsACorruption() {
        Path img = dir.resolve("corrupt.qcow2");
        qemu.create(img, "qcow2", "1M", "-o", "refcount_bits=4");
        qemu.io(img, "qcow2", QemuPattern.write(0, 64 * KIB, 0x11));
        long host = Qcow2Surgery.hostOffset(img, 0);
        assertThat(Qcow2Surgery.refcount(img, host)).isEqualTo(1);

        Qcow2Surgery.setRefcount(img, host, 0);

        assertThat(Qcow2Surgery.refcount(img, host)).isZero();
        assertThat(Qcow2Surgery.refcount(img, 0))
                .as("neighbouring 4-bit refcounts untouched")
                .isEqualTo(1);
        CheckResult r = qemu.check(img);
        assertThat(r.exitCode()).isEqualTo(CheckResult.CORRUPTED);
        assertThat(r.corruptions()).isPositive();
        assertThat(r.stderr()).contains("ERROR cluster " + host / (64 * KIB) + " refcount=0 reference=1");
        assertThatThrownBy(() -> AssertImages.assertCheckCleanOrLeaksOnly(img)).isInstanceOf(AssertionError.class);
    }

    @Test
    void checkOfRawIsNotSupportedAndOfAnUnopenableImageIsNotCompleted() throws Exception {
        Path raw = dir.resolve("a.raw");
        qemu.create(raw, "raw", "1M");
        assertThat(qemu.check(raw).exitCode()).isEqualTo(CheckResult.NOT_SUPPORTED);

        Path img = dir.resolve("bad.qcow2");
        qemu.create(img, "qcow2", "1M");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).putInt(0, 30), 20); // cluster_bits = 30: refused on open
        }
        CheckResult r = qemu.check(img);
        assertThat(r.exitCode()).isEqualTo(CheckResult.NOT_COMPLETED);
        assertThat(r.stderr()).contains("Unsupported cluster size");
    }

    // ------------------------------------------------------------------ compare, info, convert, rebase

    @Test
    void compareTellsIdenticalFromDifferent() throws Exception {
        Path a = dir.resolve("a.qcow2");
        qemu.create(a, "qcow2", "1M");
        qemu.io(a, "qcow2", QemuPattern.write(0, 64 * KIB, 0x11));
        Path b = Files.copy(a, dir.resolve("b.qcow2"));
        Path raw = dir.resolve("a.raw");
        qemu.convertToRaw(a, raw);

        assertThat(qemu.compare(a, b).exitCode()).isZero();
        assertThat(qemu.compare(a, raw).exitCode())
                .as("qcow2 against raw, -f/-F probed")
                .isZero();
        AssertImages.assertSameContent(a, raw);

        qemu.io(b, "qcow2", QemuPattern.write(512 * KIB + 7, 1, 0x01));
        ProcessResult differ = qemu.compare(a, b);
        assertThat(differ.exitCode()).isEqualTo(1);
        assertThat(differ.output()).contains("Content mismatch at offset 524288");
        AssertImages.assertDifferentContent(a, b);
        assertThatThrownBy(() -> AssertImages.assertSameContent(a, b)).isInstanceOf(AssertionError.class);

        assertThat(qemu.compare(a, dir.resolve("missing.qcow2")).exitCode()).isEqualTo(2);
    }

    @Test
    void compareIsNonStrictAboutAllocationAndZeroTails() {
        Path a = dir.resolve("a.qcow2");
        Path b = dir.resolve("b.qcow2");
        qemu.create(a, "qcow2", "1M");
        qemu.create(b, "qcow2", "2M");
        qemu.io(b, "qcow2", QemuPattern.zero(0, 64 * KIB), QemuPattern.write(1536 * KIB, 512, 0));
        assertThat(qemu.compare(a, b).exitCode()).isZero();
        assertThat(qemu.compare(a, b, "-s").exitCode())
                .as("strict mode sees the differences")
                .isEqualTo(1);
    }

    @Test
    void infoAndInfoChainAreParsed() {
        Chain chain = Chains.baseMidTop(qemu, dir);

        JsonNode info = qemu.info(chain.top());
        assertThat(info.path("format").asString()).isEqualTo("qcow2");
        assertThat(info.path("virtual-size").asLong()).isEqualTo(4 * MIB);
        assertThat(info.path("backing-filename").asString()).isEqualTo("mid.qcow2");
        assertThat(info.path("backing-filename-format").asString()).isEqualTo("qcow2");
        assertThat(info.path("dirty-flag").asBoolean()).isFalse();

        JsonNode infoChain = qemu.infoChain(chain.top());
        assertThat(infoChain.isArray()).isTrue();
        assertThat(infoChain.size()).isEqualTo(3);
        assertThat(infoChain.get(2).path("filename").asString()).endsWith("base.qcow2");

        AssertImages.assertBacking(chain.top(), "mid.qcow2", "qcow2");
        AssertImages.assertBacking(chain.base(), null, null);
        AssertImages.assertChainLength(chain.top(), 3);
        AssertImages.assertNotDirtyNorCorrupt(chain.top());
    }

    @Test
    void forceShareReadsAnImageThatAnotherProcessHoldsOpen() throws Exception {
        Path img = dir.resolve("held.qcow2");
        qemu.create(img, "qcow2", "1M");
        // An interactive qemu-io keeps the image open, with QEMU's write lock, until stdin closes.
        Process holder = new ProcessBuilder(qemu.qemuIoPath().toString(), "-f", "qcow2", img.toString())
                .redirectErrorStream(true)
                .start();
        try {
            holder.getInputStream().read(); // the first byte of its prompt: the image is open
            assertThatThrownBy(() -> qemu.info(img))
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("lock");
            assertThat(qemu.withForceShare().info(img).path("virtual-size").asLong())
                    .isEqualTo(MIB);
            assertThat(qemu.withForceShare().map(img)).hasSize(1);
        } finally {
            holder.getOutputStream().close();
            if (!holder.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                holder.destroyForcibly();
            }
        }
    }

    @Test
    void convertToRawGivesTheGuestView() throws Exception {
        Chain chain = Chains.baseMidTop(qemu, dir);
        Path raw = dir.resolve("out.raw");

        qemu.convertToRaw(chain.top(), raw);

        assertThat(Files.readAllBytes(raw)).isEqualTo(chain.expected());
        qemu.convert(
                "-f",
                "raw",
                "-O",
                "qcow2",
                "-c",
                raw.toString(),
                dir.resolve("packed.qcow2").toString());
        AssertImages.assertSameContent(raw, dir.resolve("packed.qcow2"));
    }

    @Test
    void safeRebaseKeepsTheContentAndUnsafeRebaseDoesNot() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        Path original = chain.copyOfTop("top.orig.qcow2");
        Path unsafe = chain.copyOfTop("top.unsafe.qcow2");

        qemu.rebase(chain.top(), "base.qcow2", "qcow2");

        AssertImages.assertBacking(chain.top(), "base.qcow2", "qcow2");
        AssertImages.assertChainLength(chain.top(), 2);
        AssertImages.assertSameContent(original, chain.top());
        AssertImages.assertContent(chain.top(), chain.expected());
        AssertImages.assertCheckClean(chain.top());

        qemu.rebaseUnsafe(unsafe, "base.qcow2", "qcow2");
        AssertImages.assertDifferentContent(original, unsafe);

        qemu.rebase(chain.top(), null, null);
        AssertImages.assertBacking(chain.top(), null, null);
        AssertImages.assertContent(chain.top(), chain.expected());
    }

    @Test
    void assertContentNamesTheFirstDifference() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        byte[] wrong = chain.expected();
        wrong[70_000] ^= 1;

        assertThatThrownBy(() -> AssertImages.assertContent(chain.top(), wrong))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("first difference at offset 70000 (0x11170): 1 bytes differ");
        assertThatThrownBy(() -> AssertImages.assertContent(chain.top(), new byte[16]))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("size 4194304 instead of 16");
    }
}
