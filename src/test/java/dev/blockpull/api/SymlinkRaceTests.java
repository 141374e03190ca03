package dev.blockpull.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.format.CreateOptions;
import dev.blockpull.format.ImageCreator;
import dev.blockpull.testsupport.BlockpullHttpTest;
import dev.blockpull.testsupport.ServiceDataRoot;
import dev.blockpull.testsupport.Swapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * The check-then-open race of issue 17, over HTTP: while a thread swaps a name in the data root
 * between something inside and a symlink to something outside, a thousand requests for that
 * name never see, open or create anything outside. (ConfinedFilesTests races the opener itself
 * thousands of times more.) The outside image is told apart from the
 * inside one by its size (2 MiB against 1 MiB).
 */
@BlockpullHttpTest(shared = false)
class SymlinkRaceTests {

    private static final long MIB = 1024 * 1024;
    /** Info answers fastest: it takes the thousand tries; opening and creating take fewer, to keep the class short. */
    private static final int INFO_TRIES = 1000;

    private static final int OPEN_TRIES = 250;
    private static final int CREATE_TRIES = 400;

    @ServiceDataRoot
    static Path dataRoot;
    /** The data root's directory, the context's own: {@code outside} goes beside the root. */
    static Path tmp;

    @Autowired
    RestTestClient client;

    static Path root;
    static Path outside;

    @BeforeAll
    static void images() throws IOException {
        tmp = dataRoot.getParent();
        root = Files.createDirectories(tmp.resolve("data")).toRealPath();
        outside = Files.createDirectories(tmp.resolve("outside")).toRealPath();
        ImageCreator.create(outside.resolve("outside.qcow2"), CreateOptions.qcow2(2 * MIB, null));
        ImageCreator.create(root.resolve("inside.qcow2"), CreateOptions.qcow2(MIB, null));
        Files.createDirectories(root.resolve("real"));
    }

    @Test
    void infoNeverReportsTheOutsideImageWhileTheNameIsSwapped() throws Exception {
        Path name = root.resolve("race-info.qcow2");
        Files.createLink(name, root.resolve("inside.qcow2"));
        int inside = 0;
        try (Swapper swapper =
                Swapper.fileAndSymlink(name, root.resolve("inside.qcow2"), outside.resolve("outside.qcow2"))) {
            for (int i = 0; i < INFO_TRIES; i++) {
                Reply r = Reply.of(client.get()
                        .uri("/images/info?filename=race-info.qcow2")
                        .exchange());
                assertThat(r.status()).as("try %d: %s", i, r).isIn(200, 400, 404, 409);
                if (r.status() == 200) {
                    assertThat(r.body().get("virtualSize").asLong())
                            .as("try %d: %s", i, r)
                            .isEqualTo(MIB);
                    inside++;
                }
            }
            assertThat(swapper.swaps()).isPositive();
        }
        assertThat(inside).as("answers about the inside image").isPositive();
    }

    @Test
    void openingANodeNeverOpensTheOutsideImageWhileTheNameIsSwapped() throws Exception {
        Path name = root.resolve("race-node.qcow2");
        Files.createLink(name, root.resolve("inside.qcow2"));
        int opened = 0;
        try (Swapper swapper =
                Swapper.fileAndSymlink(name, root.resolve("inside.qcow2"), outside.resolve("outside.qcow2"))) {
            for (int i = 0; i < OPEN_TRIES; i++) {
                Reply r = post(
                        "/nodes",
                        Map.of("nodeName", "race" + i, "driver", "qcow2", "file", "race-node.qcow2", "readOnly", true));
                assertThat(r.status()).as("try %d: %s", i, r).isIn(201, 400, 404, 409);
                if (r.status() == 201) {
                    assertThat(r.body().get("virtualSize").asLong())
                            .as("try %d: %s", i, r)
                            .isEqualTo(MIB);
                    assertThat(Reply.of(client.delete().uri("/nodes/race" + i).exchange())
                                    .status())
                            .isEqualTo(204);
                    opened++;
                }
            }
            assertThat(swapper.swaps()).isPositive();
        }
        assertThat(opened).as("opens of the inside image").isPositive();
    }

    @Test
    void creatingNeverPutsAFileOutsideWhileADirectoryOnThePathIsSwapped() throws Exception {
        Path dir = root.resolve("rdir");
        Files.createSymbolicLink(dir, Path.of("real"));
        int created = 0;
        try (Swapper swapper = Swapper.symlinkTargets(dir, Path.of("real"), outside)) {
            for (int i = 0; i < CREATE_TRIES; i++) {
                Reply r = post("/images", Map.of("filename", "rdir/c" + i + ".qcow2", "format", "raw", "size", 512));
                assertThat(r.status()).as("try %d: %s", i, r).isIn(201, 400, 404, 409);
                if (r.status() == 201) {
                    created++;
                }
            }
            assertThat(swapper.swaps()).isPositive();
        }
        try (Stream<Path> files = Files.list(outside)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("outside.qcow2");
        }
        try (Stream<Path> files = Files.list(root.resolve("real"))) {
            // more than were answered 201: a create can succeed and its info, read after a swap, be refused
            assertThat(files).hasSizeGreaterThanOrEqualTo(created);
        }
        assertThat(created).as("files created inside").isPositive();
    }

    private Reply post(String uri, Object body) {
        return Reply.of(client.post()
                .uri(uri)
                .contentType(MediaType.APPLICATION_JSON)
                .body(body)
                .exchange());
    }
}
