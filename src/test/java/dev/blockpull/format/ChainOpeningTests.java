package dev.blockpull.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.FileOpener;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one chain-opening policy, through {@link ImageChain#open}: depth, loops, missing and refused backing files. */
class ChainOpeningTests {

    static final long MiB = 1024 * 1024;

    @TempDir
    Path dir;

    /** Names relative to the test directory, as the service names them relative to its data root. */
    ChainOpening policy(int maxDepth) {
        return new ChainOpening(
                (image, ref) -> image.resolveSibling(ref.fileName()),
                maxDepth,
                p -> dir.relativize(p).toString());
    }

    ImageChain open(String top, int maxDepth) {
        return ImageChain.open(dir.resolve(top), ImageFormat.QCOW2, policy(maxDepth), true, FileOpener.PLAIN);
    }

    void qcow2(String name, String backing) {
        ImageCreator.create(
                dir.resolve(name),
                CreateOptions.qcow2(MiB, backing == null ? null : new BackingReference(backing, ImageFormat.QCOW2)));
    }

    @Test
    void aChainAsDeepAsTheLimitOpensWholeTopFirst() {
        qcow2("base.qcow2", null);
        qcow2("mid.qcow2", "base.qcow2");
        qcow2("top.qcow2", "mid.qcow2");

        try (ImageChain chain = open("top.qcow2", 3)) {
            assertThat(chain.layers())
                    .extracting(i -> dir.relativize(i.path()).toString())
                    .containsExactly("top.qcow2", "mid.qcow2", "base.qcow2");
        }
    }

    @Test
    void aChainDeeperThanTheLimitIsRefusedNamingItsTopAndTheLimit() {
        qcow2("base.qcow2", null);
        qcow2("mid.qcow2", "base.qcow2");
        qcow2("top.qcow2", "mid.qcow2");

        assertThatThrownBy(() -> open("top.qcow2", 2))
                .isInstanceOf(BlockException.class)
                .hasMessage("Backing chain of 'top.qcow2' is deeper than the limit of 2 images "
                        + "(blockpull.graph.max-chain-depth)")
                .extracting(e -> ((BlockException) e).kind())
                .isEqualTo(BlockErrorKind.INVALID_ARGUMENT);
    }

    @Test
    void aBackingLoopIsRefusedNamingTheFileSeenTwice() {
        qcow2("a.qcow2", "b.qcow2");
        qcow2("b.qcow2", "a.qcow2");

        assertThatThrownBy(() -> open("a.qcow2", 16))
                .isInstanceOf(BlockException.class)
                .hasMessage("Backing file 'a.qcow2' creates an infinite loop in the chain");
    }

    @Test
    void aMissingBackingFileIsAnInvalidImageNamingTheImageThatNamesIt() {
        qcow2("top.qcow2", "gone.qcow2");

        assertThatThrownBy(() -> open("top.qcow2", 16))
                .isInstanceOf(BlockException.class)
                .hasMessageStartingWith("Could not open backing file 'gone.qcow2' of 'top.qcow2': no such image")
                .extracting(e -> ((BlockException) e).kind())
                .isEqualTo(BlockErrorKind.INVALID_IMAGE);
    }

    @Test
    void aBackingFileTheResolverRefusesIsNeverOpened() {
        qcow2("top.qcow2", "../outside.qcow2");
        ChainOpening confined = new ChainOpening(
                (image, ref) -> {
                    throw new BlockException(BlockErrorKind.INVALID_ARGUMENT, "refused " + ref.fileName());
                },
                16,
                Path::toString);

        assertThatThrownBy(() ->
                        ImageChain.open(dir.resolve("top.qcow2"), ImageFormat.QCOW2, confined, true, FileOpener.PLAIN))
                .hasMessage("refused ../outside.qcow2");
    }
}
