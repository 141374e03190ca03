package dev.blockpull.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import dev.blockpull.testsupport.Swapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening, creating and deleting beneath the root, with symlinks and swaps in the way. */
class ConfinedFilesTests {

    private static final Set<StandardOpenOption> READ = Set.of(StandardOpenOption.READ);

    @TempDir
    Path tmp;

    Path root;
    Path outside;
    FileOpener files;

    @BeforeEach
    void layout() throws IOException {
        DataRoot dataRoot = new DataRoot(tmp.resolve("data"));
        root = dataRoot.root();
        files = dataRoot.files();
        outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "outside");
        Files.writeString(Files.createDirectories(root.resolve("real")).resolve("inside"), "inside");
    }

    @Test
    void aLinkIntoTheReservedDirectorySwappedInAfterTheCheckIsNotFollowed() throws IOException {
        FileOpener reserving = new DataRoot(tmp.resolve("data"), tmp.resolve("data/.blockpull")).files();
        Files.writeString(root.resolve(".blockpull/state.json"), "{}");
        // What DataRoot.resolve would have refused, put in place after the check.
        Files.createSymbolicLink(root.resolve("real/swapped"), root.resolve(".blockpull/state.json"));
        Files.createSymbolicLink(root.resolve("state-dir"), Path.of(".blockpull"));

        for (String name : new String[] {"real/swapped", ".blockpull/state.json", "state-dir/state.json"}) {
            assertThatExceptionOfType(BlockException.class)
                    .as(name)
                    .isThrownBy(() -> reserving.open(root.resolve(name), READ))
                    .withMessageContaining("state directory");
        }
        assertThatExceptionOfType(BlockException.class)
                .isThrownBy(() -> reserving.create(root.resolve("state-dir/new.qcow2")));
        assertThat(root.resolve(".blockpull/new.qcow2")).doesNotExist();
        assertThat(contentOf(reserving.open(root.resolve("real/inside"), READ))).isEqualTo("inside");
    }

    @Test
    void opensAFileBeneathTheRoot() throws IOException {
        assertThat(contentOf(files.open(root.resolve("real/inside"), READ))).isEqualTo("inside");
    }

    @Test
    void followsSymlinksThatStayInsideTheRootRelativeOrAbsolute() throws IOException {
        Files.createSymbolicLink(root.resolve("rel-dir"), Path.of("real"));
        Files.createSymbolicLink(root.resolve("abs-file"), root.resolve("real/inside"));
        Files.createSymbolicLink(root.resolve("real/up"), Path.of("../real/inside"));

        assertThat(contentOf(files.open(root.resolve("rel-dir/inside"), READ))).isEqualTo("inside");
        assertThat(contentOf(files.open(root.resolve("abs-file"), READ))).isEqualTo("inside");
        assertThat(contentOf(files.open(root.resolve("rel-dir/up"), READ))).isEqualTo("inside");
    }

    @Test
    void refusesAFileSymlinkThatLeadsOutside() throws IOException {
        Files.createSymbolicLink(root.resolve("escape"), outside.resolve("secret"));

        assertRefused(() -> files.open(root.resolve("escape"), READ), "leads outside the data root");
    }

    @Test
    void refusesADirectorySymlinkThatLeadsOutsideAnywhereOnThePath() throws IOException {
        Files.createSymbolicLink(root.resolve("real/esc"), outside);
        Files.createSymbolicLink(root.resolve("dotdot"), Path.of("real/../../outside"));

        assertRefused(() -> files.open(root.resolve("real/esc/secret"), READ), "leads outside the data root");
        assertRefused(() -> files.open(root.resolve("dotdot/secret"), READ), "leads outside the data root");
    }

    @Test
    void refusesASymlinkLoop() throws IOException {
        Files.createSymbolicLink(root.resolve("a"), Path.of("b"));
        Files.createSymbolicLink(root.resolve("b"), Path.of("a"));

        assertRefused(() -> files.open(root.resolve("a"), READ), "too many symbolic links");
    }

    @Test
    void refusesADirectoryAsAFile() {
        assertRefused(() -> files.open(root.resolve("real"), READ), "not a regular file");
    }

    @Test
    void opensAMissingFileAsNoSuchFileNamingItRelatively() {
        assertThatExceptionOfType(NoSuchFileException.class)
                .isThrownBy(() -> files.open(root.resolve("real/missing/x"), READ))
                .withMessage("real/missing");
    }

    @Test
    void createMakesMissingDirectoriesBeneathTheRootAndLeavesNoStagingBehind() throws IOException {
        try (FileChannel ch = files.create(root.resolve("new/deeper/disk.raw"))) {
            ch.write(ByteBuffer.wrap("x".getBytes(StandardCharsets.UTF_8)));
        }

        assertThat(root.resolve("new/deeper/disk.raw")).hasContent("x");
        try (var entries = Files.list(root)) {
            assertThat(entries.map(p -> p.getFileName().toString()))
                    .noneMatch(n -> n.startsWith(ConfinedFiles.STAGING_PREFIX));
        }
    }

    @Test
    void createRefusesAnyExistingNameEvenADanglingLinkAndLeavesItAlone() throws IOException {
        Files.createSymbolicLink(root.resolve("dangling"), outside.resolve("new-secret"));

        assertThatExceptionOfType(FileAlreadyExistsException.class)
                .isThrownBy(() -> files.create(root.resolve("dangling")));
        assertThatExceptionOfType(FileAlreadyExistsException.class)
                .isThrownBy(() -> files.create(root.resolve("real/inside")));
        assertThat(outside.resolve("new-secret")).doesNotExist();
        assertThat(root.resolve("real/inside")).hasContent("inside");
    }

    @Test
    void createThroughADirectorySymlinkLeadingOutsideCreatesNothingOutside() throws IOException {
        Files.createSymbolicLink(root.resolve("esc"), outside);

        assertRefused(() -> files.create(root.resolve("esc/sub/new.qcow2")), "leads outside the data root");
        try (var entries = Files.list(outside)) {
            assertThat(entries.map(p -> p.getFileName().toString())).containsExactly("secret");
        }
    }

    @Test
    void deleteRemovesALinkNotItsTarget() throws IOException {
        Files.createSymbolicLink(root.resolve("link"), outside.resolve("secret"));

        assertThat(files.deleteIfExists(root.resolve("link"))).isTrue();
        assertThat(files.deleteIfExists(root.resolve("link"))).isFalse();
        assertThat(outside.resolve("secret")).hasContent("outside");
    }

    @Test
    void deleteThroughADirectorySymlinkLeadingOutsideIsRefused() throws IOException {
        Files.createSymbolicLink(root.resolve("esc"), outside);

        assertRefused(() -> files.deleteIfExists(root.resolve("esc/secret")), "leads outside the data root");
        assertThat(outside.resolve("secret")).exists();
    }

    @Test
    void attributesAreThoseOfTheFileBeneathTheRootAndRefusedThroughALinkOut() throws IOException {
        Files.createSymbolicLink(root.resolve("alias"), Path.of("real/inside"));
        Files.createSymbolicLink(root.resolve("escape"), outside.resolve("secret"));

        assertThat(files.attributes(root.resolve("alias")).size()).isEqualTo("inside".length());
        assertThat(files.attributes(root.resolve("alias")).fileKey())
                .isEqualTo(Files.readAttributes(
                                root.resolve("real/inside"), java.nio.file.attribute.BasicFileAttributes.class)
                        .fileKey());
        assertRefused(() -> files.attributes(root.resolve("escape")), "leads outside the data root");
    }

    @Test
    void aPathOutsideTheRootIsRefusedBeforeAnyLookUp() {
        assertRefused(() -> files.open(outside.resolve("secret"), READ), "outside the data root");
    }

    @Test
    void aFileSwappedForAnOutsideLinkThousandsOfTimesIsNeverOpenedOutside() throws Exception {
        Path name = root.resolve("race");
        Path keep = Files.writeString(root.resolve("keep"), "inside");
        Files.createLink(name, keep);
        int insideOpens = 0;
        try (Swapper swapper = Swapper.fileAndSymlink(name, keep, outside.resolve("secret"))) {
            for (int i = 0; i < 5000; i++) {
                try (FileChannel ch = files.open(name, READ)) {
                    assertThat(contentOf(ch)).as("try %d", i).isEqualTo("inside");
                    insideOpens++;
                } catch (BlockException | NoSuchFileException refused) {
                    // refused as outside, or caught mid-swap: both fine, an outside open is not
                }
            }
            assertThat(swapper.swaps()).as("swaps during the tries").isPositive();
        }
        assertThat(insideOpens).as("opens that met the inside file").isPositive();
    }

    @Test
    void aDirectorySwappedForAnOutsideLinkThousandsOfTimesNeverGetsAFileCreatedOutside() throws Exception {
        Path dir = root.resolve("dir");
        Files.createSymbolicLink(dir, Path.of("real"));
        int created = 0;
        try (Swapper swapper = Swapper.symlinkTargets(dir, Path.of("real"), outside)) {
            for (int i = 0; i < 2000; i++) {
                try (FileChannel ch = files.create(dir.resolve("c" + i))) {
                    created++;
                } catch (BlockException | NoSuchFileException refused) {
                    // refused as outside, or caught mid-swap
                }
            }
            assertThat(swapper.swaps()).as("swaps during the tries").isPositive();
        }
        try (var entries = Files.list(outside)) {
            assertThat(entries.map(p -> p.getFileName().toString())).containsExactly("secret");
        }
        try (var entries = Files.list(root.resolve("real"))) {
            assertThat(entries.filter(p -> p.getFileName().toString().startsWith("c")))
                    .hasSize(created);
        }
        assertThat(created).as("files created inside").isPositive();
    }

    private static String contentOf(FileChannel ch) throws IOException {
        try (ch) {
            ByteBuffer b = ByteBuffer.allocate(64);
            ch.read(b, 0);
            return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
        }
    }

    private interface Call {
        void run() throws Exception;
    }

    private void assertRefused(Call call, String messagePart) {
        assertThatExceptionOfType(BlockException.class)
                .isThrownBy(call::run)
                .withMessageContaining(messagePart)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(tmp.toString()))
                .satisfies(e -> assertThat(e.kind()).isEqualTo(BlockErrorKind.INVALID_ARGUMENT));
    }
}
