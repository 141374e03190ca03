package dev.blockpull.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataRootTests {

    @TempDir
    Path tmp;

    private Path outside;
    private DataRoot dataRoot;
    private Path root;

    @BeforeEach
    void createRoot() throws IOException {
        outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "secret");
        dataRoot = new DataRoot(tmp.resolve("data"));
        root = dataRoot.root();
    }

    // --- the root itself

    @Test
    void constructorCreatesAMissingRootDirectory() {
        assertThat(root).isDirectory();
    }

    @Test
    void rootIsCanonicalEvenWhenGivenThroughASymlink() throws IOException {
        Path link = Files.createSymbolicLink(tmp.resolve("link-to-data"), root);

        assertThat(new DataRoot(link).root()).isEqualTo(root);
    }

    @Test
    void constructorRefusesAFileAsRoot() throws IOException {
        Path file = Files.writeString(tmp.resolve("file"), "x");

        assertThatExceptionOfType(BlockException.class)
                .isThrownBy(() -> new DataRoot(file))
                .withMessageContaining("not a directory");
    }

    // --- the reserved (state) directory

    @Test
    void noNameAndNoBackingStringReachesTheReservedDirectory() throws IOException {
        DataRoot reserving = new DataRoot(tmp.resolve("data"), tmp.resolve("data/.blockpull"));
        Files.writeString(root.resolve(".blockpull/state.json"), "{}");
        Files.createDirectories(root.resolve("vm"));
        Files.createSymbolicLink(root.resolve("vm/state-link"), root.resolve(".blockpull/state.json"));

        for (String name :
                new String[] {".blockpull/state.json", ".blockpull", "./.blockpull/new.qcow2", "vm/state-link"}) {
            assertThatExceptionOfType(BlockException.class)
                    .as(name)
                    .isThrownBy(() -> reserving.resolve(name))
                    .withMessageContaining("state directory");
        }
        assertThatExceptionOfType(BlockException.class)
                .isThrownBy(() -> reserving.resolveBacking(root.resolve("vm/top.qcow2"), "../.blockpull/state.json"))
                .withMessageContaining("state directory");
        assertThat(reserving.resolve(".blockpullx/a.qcow2")).isEqualTo(root.resolve(".blockpullx/a.qcow2"));
    }

    @Test
    void aStateDirectoryOutsideTheRootReservesNothingInside() {
        DataRoot elsewhere = new DataRoot(tmp.resolve("data"), tmp.resolve("state"));

        assertThat(elsewhere.resolve(".blockpull/a.qcow2")).isEqualTo(root.resolve(".blockpull/a.qcow2"));
        assertThat(tmp.resolve("state")).isDirectory();
    }

    // --- names from API users: allowed

    @Test
    void resolveReturnsAPathUnderTheRoot() {
        assertThat(dataRoot.resolve("vm1/top.qcow2")).isEqualTo(root.resolve("vm1/top.qcow2"));
    }

    @Test
    void resolveNormalisesDotAndDoubleSlashSegments() {
        assertThat(dataRoot.resolve("./vm1//./top.qcow2")).isEqualTo(root.resolve("vm1/top.qcow2"));
    }

    @Test
    void resolveAllowsAColonAfterTheFirstSlash() {
        assertThat(dataRoot.resolve("vm1/a:b.qcow2")).isEqualTo(root.resolve("vm1/a:b.qcow2"));
        assertThat(dataRoot.resolve("./json:x")).isEqualTo(root.resolve("json:x"));
    }

    @Test
    void resolveAllowsASymlinkThatStaysInsideAndDoesNotFollowIt() throws IOException {
        Files.writeString(root.resolve("base.qcow2"), "x");
        Files.createSymbolicLink(root.resolve("alias.qcow2"), root.resolve("base.qcow2"));

        assertThat(dataRoot.resolve("alias.qcow2")).isEqualTo(root.resolve("alias.qcow2"));
    }

    @Test
    void resolveAllowsASymlinkedDirectoryInsideTheRoot() throws IOException {
        Files.createDirectories(root.resolve("real"));
        Files.createSymbolicLink(root.resolve("vm"), root.resolve("real"));

        assertThat(dataRoot.resolve("vm/new.qcow2")).isEqualTo(root.resolve("vm/new.qcow2"));
    }

    @Test
    void resolveAllowsFilesThatDoNotExistYet() {
        assertThat(dataRoot.resolve("new/dir/disk.qcow2")).isEqualTo(root.resolve("new/dir/disk.qcow2"));
    }

    // --- names from API users: refused

    @Test
    void resolveRefusesAnEmptyName() {
        assertRefused(() -> dataRoot.resolve(""), "is empty");
    }

    @Test
    void resolveRefusesAnAbsolutePath() {
        assertRefused(() -> dataRoot.resolve(outside.resolve("secret").toString()), "absolute path");
        assertRefused(() -> dataRoot.resolve(root.resolve("disk.qcow2").toString()), "absolute path");
    }

    @Test
    void resolveRefusesDotDotSegments() {
        assertRefused(() -> dataRoot.resolve("../outside/secret"), "'..'");
        assertRefused(() -> dataRoot.resolve("vm1/../disk.qcow2"), "'..'");
        assertRefused(() -> dataRoot.resolve(".."), "'..'");
    }

    @Test
    void resolveRefusesTheRootItself() {
        assertRefused(() -> dataRoot.resolve("."), "data root itself");
    }

    @Test
    void resolveRefusesASymlinkedDirectoryPointingOutside() throws IOException {
        Files.createSymbolicLink(root.resolve("escape"), outside);

        assertRefused(() -> dataRoot.resolve("escape/secret"), "outside the data root");
        assertRefused(() -> dataRoot.resolve("escape/new.qcow2"), "outside the data root");
    }

    @Test
    void resolveRefusesASymlinkedFilePointingOutside() throws IOException {
        Files.createSymbolicLink(root.resolve("disk.qcow2"), outside.resolve("secret"));

        assertRefused(() -> dataRoot.resolve("disk.qcow2"), "outside the data root");
    }

    @Test
    void resolveRefusesADanglingSymlinkBecauseCreatingItWouldFollowIt() throws IOException {
        Files.createSymbolicLink(root.resolve("new.qcow2"), outside.resolve("not-yet"));

        assertRefused(() -> dataRoot.resolve("new.qcow2"), "does not exist");
    }

    @Test
    void resolveRefusesJsonPseudoProtocol() {
        assertRefused(() -> dataRoot.resolve("json:{\"file.filename\":\"/etc/passwd\"}"), "protocol prefix");
    }

    @Test
    void resolveRefusesNbdUrls() {
        assertRefused(() -> dataRoot.resolve("nbd://evil.example:10809/export"), "protocol prefix");
        assertRefused(() -> dataRoot.resolve("nbd+unix:///export?socket=/tmp/s"), "protocol prefix");
    }

    @Test
    void resolveRefusesFileProtocol() {
        assertRefused(() -> dataRoot.resolve("file:/etc/passwd"), "protocol prefix");
        assertRefused(() -> dataRoot.resolve("file:disk.qcow2"), "protocol prefix");
    }

    @Test
    void resolveRefusesNul() {
        assertRefused(() -> dataRoot.resolve("disk.qcow2\0.raw"), "NUL");
    }

    @Test
    void resolveRefusesControlCharacters() {
        assertRefused(() -> dataRoot.resolve("disk\n.qcow2"), "U+000A");
        assertRefused(() -> dataRoot.resolve("disk\u007f.qcow2"), "U+007F");
        assertRefused(() -> dataRoot.resolve("disk\u001b[31m.qcow2"), "U+001B");
    }

    @Test
    void resolveRefusesBackslashes() {
        assertRefused(() -> dataRoot.resolve("..\\outside\\secret"), "backslash");
    }

    @Test
    void resolveRefusesAColonBeforeTheFirstSlashWhateverPrecedesItAsQemuDoes() {
        assertRefused(() -> dataRoot.resolve("host_device:/dev/sda"), "protocol prefix");
        assertRefused(() -> dataRoot.resolve("a b:c"), "protocol prefix");
        assertRefused(() -> dataRoot.resolveBacking(root.resolve("top.qcow2"), "x_y:z"), "protocol prefix");
    }

    @Test
    void resolveRefusesUnpairedSurrogatesAndQuotesThemEscaped() {
        assertRefused(() -> dataRoot.resolve("\ud800x.qcow2"), "unpaired UTF-16 surrogate");
        assertRefused(() -> dataRoot.resolve("x\udc00.qcow2"), "unpaired UTF-16 surrogate");
        assertRefused(() -> dataRoot.resolveBacking(root.resolve("top.qcow2"), "a\udc00\ud800b"), "surrogate");
        assertThatExceptionOfType(BlockException.class)
                .isThrownBy(() -> dataRoot.resolve("\ud800x.qcow2"))
                .satisfies(e ->
                        assertThat(e.getMessage()).contains("'\\ud800x.qcow2'").doesNotContain("\ud800"));
    }

    @Test
    void resolveAllowsPairedSurrogates() {
        assertThat(dataRoot.resolve("disk-\ud83d\udcbe.qcow2")).isEqualTo(root.resolve("disk-\ud83d\udcbe.qcow2"));
    }

    @Test
    void resolveRefusesASegmentLongerThanTheFileSystemAllows() {
        assertRefused(() -> dataRoot.resolve("vm/" + "a".repeat(256)), "longer than 255 bytes");
        assertRefused(() -> dataRoot.resolve("\u00e9".repeat(128)), "longer than 255 bytes");
        assertThat(dataRoot.resolve("a".repeat(255))).isEqualTo(root.resolve("a".repeat(255)));
    }

    @Test
    void resolveRefusesAWholePathLongerThanTheFileSystemAllows() {
        String deep = ("d".repeat(200) + "/").repeat(21) + "disk.qcow2";

        assertRefused(() -> dataRoot.resolve(deep), "longer than the file system allows");
        assertRefused(() -> dataRoot.resolveBacking(root.resolve("top.qcow2"), deep), "longer than the file system");
    }

    @Test
    void hidePathsMakesNamesUnderTheRootRelativeAndLeavesOtherPathsAlone() {
        String text = "Could not open '" + root.resolve("vm1/top.qcow2") + "': EIO; root " + root + "; sibling " + root
                + "-other/x";

        assertThat(dataRoot.hidePaths(text))
                .isEqualTo("Could not open 'vm1/top.qcow2': EIO; root <data root>; sibling " + root + "-other/x");
    }

    @Test
    void hidePathsAlsoHidesTheRootAsConfiguredThroughASymlink() throws IOException {
        Path link = Files.createSymbolicLink(tmp.resolve("link-to-data"), root);
        DataRoot viaLink = new DataRoot(link);

        assertThat(viaLink.hidePaths("'" + link.resolve("a.qcow2") + "' and '" + root.resolve("b.qcow2") + "'"))
                .isEqualTo("'a.qcow2' and 'b.qcow2'");
    }

    @Test
    void refusalMessagesQuoteHostileNamesSafelyAndShortly() {
        String hostile = "json:{\"file\":\"" + "A".repeat(500) + "\"}\u001b";

        assertThatExceptionOfType(BlockException.class)
                .isThrownBy(() -> dataRoot.resolve(hostile))
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(300).doesNotContain("\u001b"));
    }

    // --- backing-file names from inside images

    @Test
    void resolveBackingTakesARelativeNameFromTheImagesDirectory() {
        Path image = root.resolve("vm/top.qcow2");

        assertThat(dataRoot.resolveBacking(image, "mid.qcow2")).isEqualTo(root.resolve("vm/mid.qcow2"));
    }

    @Test
    void resolveBackingAllowsDotDotThatStaysInsideTheRoot() {
        Path image = root.resolve("vm/top.qcow2");

        assertThat(dataRoot.resolveBacking(image, "../base.qcow2")).isEqualTo(root.resolve("base.qcow2"));
    }

    @Test
    void resolveBackingTakesARelativeImagePathAsRelativeToTheRoot() {
        assertThat(dataRoot.resolveBacking(Path.of("vm/top.qcow2"), "../base.qcow2"))
                .isEqualTo(root.resolve("base.qcow2"));
    }

    @Test
    void resolveBackingRefusesDotDotThatLeavesTheRoot() {
        Path image = root.resolve("vm/top.qcow2");

        assertRefused(() -> dataRoot.resolveBacking(image, "../../etc/passwd"), "outside the data root");
        assertRefused(() -> dataRoot.resolveBacking(image, "../../outside/secret"), "outside the data root");
    }

    @Test
    void resolveBackingAllowsAnAbsolutePathInsideTheRoot() {
        Path image = root.resolve("vm/top.qcow2");

        assertThat(dataRoot.resolveBacking(image, root.resolve("base.qcow2").toString()))
                .isEqualTo(root.resolve("base.qcow2"));
    }

    @Test
    void resolveBackingAllowsAnAbsolutePathThroughASymlinkToTheRoot() throws IOException {
        Path link = Files.createSymbolicLink(tmp.resolve("link-to-data"), root);
        Files.writeString(root.resolve("base.qcow2"), "x");

        assertThat(dataRoot.resolveBacking(
                        root.resolve("top.qcow2"), link.resolve("base.qcow2").toString()))
                .isEqualTo(root.resolve("base.qcow2"));
    }

    @Test
    void resolveBackingRefusesAnAbsolutePathOutsideTheRoot() {
        assertRefused(() -> dataRoot.resolveBacking(root.resolve("top.qcow2"), "/etc/passwd"), "outside the data root");
    }

    @Test
    void resolveBackingRefusesASymlinkedFilePointingOutside() throws IOException {
        Files.createSymbolicLink(root.resolve("base.qcow2"), outside.resolve("secret"));

        assertRefused(() -> dataRoot.resolveBacking(root.resolve("top.qcow2"), "base.qcow2"), "outside the data root");
    }

    @Test
    void resolveBackingRefusesASymlinkedDirectoryPointingOutside() throws IOException {
        Files.createSymbolicLink(root.resolve("escape"), outside);

        assertRefused(
                () -> dataRoot.resolveBacking(root.resolve("top.qcow2"), "escape/secret"), "outside the data root");
    }

    @Test
    void resolveBackingRefusesJsonWithASpecificMessage() {
        assertThatExceptionOfType(BlockException.class)
                .isThrownBy(() -> dataRoot.resolveBacking(
                        root.resolve("top.qcow2"), "json:{\"driver\":\"file\",\"filename\":\"/etc/passwd\"}"))
                .withMessageStartingWith("Backing file name 'json:{")
                .withMessageContaining("uses a protocol prefix; only plain file names inside the data root are allowed")
                .satisfies(e -> assertThat(e.kind()).isEqualTo(BlockErrorKind.INVALID_ARGUMENT));
    }

    @Test
    void resolveBackingRefusesProtocolsNulControlCharactersAndBackslashes() {
        Path image = root.resolve("top.qcow2");

        assertRefused(() -> dataRoot.resolveBacking(image, "nbd://host/export"), "protocol prefix");
        assertRefused(() -> dataRoot.resolveBacking(image, "file:/etc/passwd"), "protocol prefix");
        assertRefused(() -> dataRoot.resolveBacking(image, "http://host/base.qcow2"), "protocol prefix");
        assertRefused(() -> dataRoot.resolveBacking(image, "base.qcow2\0/../../etc/passwd"), "NUL");
        assertRefused(() -> dataRoot.resolveBacking(image, "base\r.qcow2"), "control character");
        assertRefused(() -> dataRoot.resolveBacking(image, "..\\..\\etc\\passwd"), "backslash");
        assertRefused(() -> dataRoot.resolveBacking(image, ""), "is empty");
    }

    // --- relativize

    @Test
    void relativizeGivesTheNameUnderTheRootWithSlashes() {
        assertThat(dataRoot.relativize(root.resolve("vm1/top.qcow2"))).isEqualTo("vm1/top.qcow2");
    }

    @Test
    void relativizeRefusesAPathOutsideTheRoot() {
        assertRefused(() -> dataRoot.relativize(outside.resolve("secret")), "outside the data root");
    }

    @Test
    void relativizeIsTheInverseOfResolve() {
        assertThat(dataRoot.resolve(dataRoot.relativize(dataRoot.resolve("a/b/c.raw"))))
                .isEqualTo(root.resolve("a/b/c.raw"));
    }

    private static void assertRefused(ThrowingCallable call, String messagePart) {
        assertThatExceptionOfType(BlockException.class)
                .isThrownBy(call)
                .withMessageContaining(messagePart)
                .satisfies(e -> assertThat(e.kind()).isEqualTo(BlockErrorKind.INVALID_ARGUMENT));
    }
}
