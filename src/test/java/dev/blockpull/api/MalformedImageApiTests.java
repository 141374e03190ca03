package dev.blockpull.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.QemuTools;
import dev.blockpull.testsupport.ServiceDataRoot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * A corpus of 304 damaged qcow2 files (seeded byte damage in the header, the refcount structures,
 * the L1 and the L2 tables of real images made by qemu-img), each given to the API the way a user
 * would: info, open as a node, map, close. The engine's own fuzzing is in MalformedImageTests;
 * this one holds the HTTP answers to the contract: never a 5xx, always a problem body, no host
 * path, and no file descriptor left open.
 */
@BlockpullHttpTest(shared = false)
class MalformedImageApiTests {

    private static final int MUTANTS_PER_ORIGINAL = 76;
    private static final String[] ORIGINALS = {"v3-64k.qcow2", "v2-512.qcow2", "v3-4k-lazy.qcow2", "overlay.qcow2"};

    @ServiceDataRoot
    static Path dataRoot;

    @Autowired
    RestTestClient client;

    static final List<String> corpus = new ArrayList<>();

    @BeforeAll
    static void buildCorpus() throws IOException {
        QemuTools qemu = QemuTools.require();
        Path originals = Files.createDirectories(dataRoot.resolve("originals"));
        Path mutants = Files.createDirectories(dataRoot.resolve("corpus"));
        Path v3 = originals.resolve(ORIGINALS[0]);
        qemu.create(v3, "qcow2", "4M", "-o", "cluster_size=65536,compat=1.1");
        qemu.io(v3, "qcow2", "write -P 0x11 0 64k", "write -P 0x12 1M 4k", "write -z 2M 64k");
        Path v2 = originals.resolve(ORIGINALS[1]);
        qemu.create(v2, "qcow2", "1M", "-o", "cluster_size=512,compat=0.10");
        qemu.io(v2, "qcow2", "write -P 0x21 0 4k", "write -P 0x22 700k 8k");
        Path lazy = originals.resolve(ORIGINALS[2]);
        qemu.create(lazy, "qcow2", "2M", "-o", "cluster_size=4096,compat=1.1,lazy_refcounts=on");
        qemu.io(lazy, "qcow2", "write -P 0x31 0 12k", "write -P 0x32 1M 4k");
        Path base = mutants.resolve("base.qcow2");
        qemu.create(base, "qcow2", "4M", "-o", "cluster_size=65536,compat=1.1");
        qemu.io(base, "qcow2", "write -P 0x41 0 1M");
        Path overlay = originals.resolve(ORIGINALS[3]);
        qemu.createOverlay(overlay, base, "-o", "cluster_size=65536,compat=1.1");
        qemu.io(overlay, "qcow2", "write -P 0x42 64k 4k", "write -P 0x43 2M 64k");
        qemu.rebaseUnsafe(overlay, "base.qcow2", "qcow2"); // the copies live next to base.qcow2

        for (int o = 0; o < ORIGINALS.length; o++) {
            Path original = originals.resolve(ORIGINALS[o]);
            byte[] bytes = Files.readAllBytes(original);
            List<Long> targets = structures(bytes);
            Random random = new Random(17_000L + o);
            for (int i = 0; i < MUTANTS_PER_ORIGINAL; i++) {
                byte[] copy = bytes.clone();
                int changes = 1 + random.nextInt(4);
                for (int k = 0; k < changes; k++) {
                    int pos = (int) Math.min(copy.length - 1, position(random, targets));
                    copy[pos] = random.nextBoolean()
                            ? (byte) (copy[pos] ^ (1 << random.nextInt(8)))
                            : (byte) random.nextInt(256);
                }
                String name = "corpus/m" + o + "-" + i + ".qcow2";
                Files.write(dataRoot.resolve(name), copy);
                corpus.add(name);
            }
        }
    }

    @Test
    void everyDamagedImageIsAnsweredWithoutA5xxWithoutAHostPathAndWithoutLeakingFiles() {
        long fdsBefore = openFileDescriptors();
        SoftAssertions soft = new SoftAssertions();
        int refused = 0;
        int opened = 0;
        for (int i = 0; i < corpus.size(); i++) {
            String name = corpus.get(i);
            String node = "m" + i;
            List<Reply> replies = new ArrayList<>();
            replies.add(get("/images/info?filename=" + name));
            Reply open = Reply.of(client.post()
                    .uri("/nodes")
                    .contentType(MediaType.APPLICATION_JSON)
                    .body(Map.of("nodeName", node, "driver", "qcow2", "file", name))
                    .exchange());
            replies.add(open);
            if (open.status() == 201) {
                opened++;
                replies.add(get("/nodes/" + node + "/map"));
                replies.add(Reply.of(client.delete().uri("/nodes/" + node).exchange()));
            } else {
                refused++;
            }
            for (Reply r : replies) {
                soft.assertThat(r.status()).as("%s: %s", name, r).isLessThan(500);
                if (r.status() >= 400) {
                    soft.assertThat(r.contentType()).as("%s: %s", name, r).startsWith("application/problem+json");
                }
                soft.assertThat(r.raw()).as("%s: %s", name, r).doesNotContain(dataRoot.toString());
            }
        }
        Reply list = get("/images?pageSize=1000");
        soft.assertThat(list.status()).as("%s", list).isEqualTo(200);
        soft.assertThat(list.raw()).doesNotContain(dataRoot.toString());
        soft.assertAll();
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(300);
        assertThat(refused)
                .as("damaged images refused (the damage must reach the checks)")
                .isPositive();
        assertThat(opened).as("damaged images that still open").isPositive();
        assertThat(openFileDescriptors()).as("file descriptors of this JVM").isLessThanOrEqualTo(fdsBefore + 16);
    }

    private Reply get(String uri) {
        return Reply.of(client.get().uri(uri).exchange());
    }

    /** The server runs in this JVM: its open files are ours. */
    private static long openFileDescriptors() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where the qcow2 structures of a file start: header, refcount table and block, L1, first L2. */
    private static List<Long> structures(byte[] image) {
        ByteBuffer b = ByteBuffer.wrap(image);
        long refcountTable = b.getLong(48);
        long l1 = b.getLong(40);
        long refcountBlock = b.getLong((int) refcountTable) & 0x00FF_FFFF_FFFF_FE00L;
        long l2 = b.getLong((int) l1) & 0x00FF_FFFF_FFFF_FE00L;
        return List.of(refcountTable, refcountBlock, l1, l2);
    }

    /** Mostly the header's fields, then the header cluster (extensions, backing name), then tables. */
    private static long position(Random random, List<Long> structures) {
        int roll = random.nextInt(100);
        if (roll < 40) {
            return random.nextInt(104);
        }
        if (roll < 50) {
            return 104 + random.nextInt(400);
        }
        long start = structures.get(random.nextInt(structures.size()));
        return start + random.nextInt(64);
    }
}
