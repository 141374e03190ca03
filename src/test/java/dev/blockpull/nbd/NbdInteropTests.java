package dev.blockpull.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.MapEntry;
import dev.blockpull.testsupport.ProcessResult;
import dev.blockpull.testsupport.QemuTools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The export as real clients see it: qemu-img, qemu-io and nbdinfo against Blockpull, with the
 * chain itself, a raw model and qemu-nbd serving the same chain as the judges.
 */
class NbdInteropTests {

    @TempDir
    Path root;

    QemuTools qemu;
    NbdFixture nbd;
    Chain chain;

    @BeforeEach
    void setUp() throws IOException {
        qemu = QemuTools.require();
        chain = Chains.baseMidTop(qemu, Files.createDirectories(root.resolve("vm")));
        nbd = new NbdFixture(root);
        nbd.open("top", "vm/top.qcow2");
    }

    @AfterEach
    void tearDown() {
        if (nbd != null) {
            nbd.close();
        }
    }

    @Test
    void qemuImgCompareOfTheExportEqualsTheChain() {
        nbd.export("vm1", "top", false);

        ProcessResult r = qemu.qemuImg(
                "compare",
                "-f",
                "raw",
                "-F",
                "qcow2",
                nbd.uri("vm1"),
                chain.top().toString());

        assertThat(r.exitCode()).as(r.describe()).isZero();
    }

    @Test
    void qemuImgConvertFromTheExportGivesTheChainsContent() throws IOException {
        nbd.export("vm1", "top", false);
        Path copy = root.resolve("copy.qcow2");

        qemu.convert("-f", "raw", "-O", "qcow2", nbd.uri("vm1"), copy.toString());

        assertThat(qemu.compare(copy, chain.top()).exitCode()).isZero();
        assertThat(Files.readAllBytes(rawOf(copy))).isEqualTo(chain.expected());
    }

    @Test
    void qemuIoWritesWriteZeroesDiscardsAndFlushesLikeOnAFile() {
        nbd.export("vm1", "top", true);
        Path model = root.resolve("model.raw");
        qemu.convertToRaw(chain.top(), model);
        String[] commands = {
            "write -P 0x77 2M 64k",
            "write -P 0x78 100 1000",
            "write -z 64k 64k",
            "write -z 3M 8k",
            "discard 0 64k",
            "discard 1M 128k",
            "aio_write -P 0x79 1536k 4k",
            "aio_flush",
            "write -f -P 0x7a 2560k 8k",
            "flush"
        };

        for (String c : commands) {
            ioOverNbd(nbd.uri("vm1"), c);
            qemu.io(model, "raw", c);
        }

        assertThat(qemu.qemuImg("compare", "-f", "raw", "-F", "raw", nbd.uri("vm1"), model.toString())
                        .exitCode())
                .isZero();
        assertThat(qemu.qemuIo("-f", "raw", "-c", "read -P 0x77 2M 64k", nbd.uri("vm1"))
                        .output())
                .doesNotContain("fail");
        // and the image underneath holds it too, after the export is gone
        nbd.unexport("vm1");
        nbd.graph.close("top", Duration.ofSeconds(10));
        assertThat(qemu.compare(chain.top(), model).exitCode()).isZero();
        assertThat(qemu.check(chain.top()).isClean()).isTrue();
    }

    @Test
    void nbdinfoMapEqualsQemuImgMap() {
        QemuTools.requireTool("nbdinfo");
        nbd.export("vm1", "top", false);

        List<String> served =
                normalise(QemuTools.run(List.of("nbdinfo", "--map", nbd.uri("vm1")), Duration.ofSeconds(60))
                        .stdout());

        List<String> expected = new ArrayList<>();
        for (MapEntry e : qemu.map(chain.top())) {
            expected.add(e.start() + " " + e.length() + " " + (e.data() ? 0 : 3));
        }
        assertThat(served).isNotEmpty().isEqualTo(merge(expected));
    }

    @Test
    void allocationDepthAndAllocationMapsEqualQemuNbdServingTheSameChain() throws Exception {
        QemuTools.requireTool("nbdinfo");
        Path qemuNbd = QemuTools.requireTool("qemu-nbd");
        nbd.export("vm1", "top", false);
        Path socket = root.resolve("qemu-nbd.sock");
        Process reference = new ProcessBuilder(
                        qemuNbd.toString(),
                        "-r",
                        "-f",
                        "qcow2",
                        "-A",
                        "-t",
                        "-k",
                        socket.toString(),
                        chain.top().toString())
                .redirectErrorStream(true)
                .start();
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(socket));
            String ref = "nbd+unix:///?socket=" + socket;
            for (String context : List.of("base:allocation", "qemu:allocation-depth")) {
                List<String> ours = normalise(
                        QemuTools.run(List.of("nbdinfo", "--map=" + context, nbd.uri("vm1")), Duration.ofSeconds(60))
                                .stdout());
                List<String> theirs =
                        normalise(QemuTools.run(List.of("nbdinfo", "--map=" + context, ref), Duration.ofSeconds(60))
                                .stdout());
                assertThat(ours).as(context).isNotEmpty().isEqualTo(theirs);
            }
        } finally {
            reference.destroy();
            reference.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void nbdinfoListsEveryExport() {
        QemuTools.requireTool("nbdinfo");
        nbd.export("vm1", "top", false);
        nbd.export("vm2", "top", true);

        ProcessResult r = QemuTools.run(
                List.of("nbdinfo", "--list", "--json", "nbd://127.0.0.1:" + nbd.port()), Duration.ofSeconds(60));

        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout())
                .contains("\"export-name\": \"vm1\"", "\"export-name\": \"vm2\"")
                .contains("\"is_read_only\": true", "\"is_read_only\": false")
                .contains("\"export-size\": " + chain.layer("top.qcow2").size());
    }

    @Test
    void removedExportIsGoneForClients() {
        nbd.export("vm1", "top", false);
        nbd.unexport("vm1");

        assertThat(qemu.qemuIo("-f", "raw", "-c", "read 0 512", nbd.uri("vm1")).exitCode())
                .isNotZero();
    }

    // ------------------------------------------------------------------ helpers

    /** qemu-io against an export; fails on a non-zero exit or output that mentions a failure. */
    void ioOverNbd(String uri, String command) {
        ProcessResult r = qemu.qemuIo("-f", "raw", "-c", command, uri);
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.output().toLowerCase())
                .as(r.describe())
                .doesNotContain("fail")
                .doesNotContain("error");
    }

    private Path rawOf(Path image) {
        Path raw = root.resolve(image.getFileName() + ".raw");
        qemu.convertToRaw(image, raw);
        return raw;
    }

    /** nbdinfo --map lines as "offset length type", adjacent runs of one type merged. */
    static List<String> normalise(String nbdinfoMap) {
        List<String> rows = new ArrayList<>();
        for (String line : nbdinfoMap.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3) {
                rows.add(f[0] + " " + f[1] + " " + f[2]);
            }
        }
        return merge(rows);
    }

    static List<String> merge(List<String> rows) {
        List<long[]> out = new ArrayList<>();
        for (String row : rows) {
            String[] f = row.split(" ");
            long off = Long.parseLong(f[0]);
            long len = Long.parseLong(f[1]);
            long type = Long.parseLong(f[2]);
            long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last[2] == type && last[0] + last[1] == off) {
                last[1] += len;
            } else {
                out.add(new long[] {off, len, type});
            }
        }
        return out.stream().map(r -> r[0] + " " + r[1] + " " + r[2]).toList();
    }
}
