package dev.blockpull.testsupport;

import static dev.blockpull.testsupport.Chains.KIB;
import static dev.blockpull.testsupport.Chains.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The in-memory model of {@link Chains} agrees with what QEMU reads from the files it built. */
class ChainsTests {

    private static QemuTools qemu;

    @TempDir
    Path dir;

    @BeforeAll
    static void tools() {
        qemu = QemuTools.require();
    }

    static Stream<Arguments> shapes() {
        ChainShape standard = ChainShape.standard();
        return Stream.of(
                Arguments.of("standard", standard),
                Arguments.of("raw base", standard.withRawBase()),
                Arguments.of("short mid", standard.withShortMid(MIB)),
                Arguments.of("qcow2 v2", standard.withCompat("0.10")),
                Arguments.of(
                        "v2, raw base, short mid",
                        standard.withCompat("0.10").withRawBase().withShortMid(MIB)),
                Arguments.of("mixed clusters 4K/64K/512", standard.withClusterSizes(4096, 65536, 512)),
                Arguments.of("2M top cluster over 512 mid", standard.withClusterSizes(65536, 512, 2 * (int) MIB)),
                Arguments.of(
                        "8M, 2M base clusters",
                        standard.withSize(8 * MIB).withClusterSizes(2 * (int) MIB, 65536, 4096)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void baseMidTopReadsAsTheModelSays(String name, ChainShape shape) {
        Chain chain = Chains.baseMidTop(qemu, dir, shape);

        assertThat(chain.layers())
                .extracting(Chain.Layer::name)
                .containsExactly(
                        "top.qcow2", "mid.qcow2", shape.baseFormat().equals("raw") ? "base.raw" : "base.qcow2");
        assertThat(chain.expected()).hasSize((int) shape.size());
        AssertImages.assertContent(chain.top(), chain.expected());
        AssertImages.assertContent(chain.path("mid.qcow2"), chain.expected("mid.qcow2"));
        AssertImages.assertContent(
                chain.base(), chain.expected(chain.layers().get(2).name()));
        for (Chain.Layer layer : chain.layers()) {
            if (layer.format().equals("qcow2")) {
                AssertImages.assertCheckClean(layer.path());
                assertThat(qemu.info(layer.path()).path("cluster-size").asLong())
                        .isEqualTo(layer.clusterSize());
                assertThat(qemu.info(layer.path())
                                .path("format-specific")
                                .path("data")
                                .path("compat")
                                .asString())
                        .isEqualTo(shape.compat());
            }
        }
        assertThat(qemu.info(chain.path("mid.qcow2")).path("virtual-size").asLong())
                .isEqualTo(shape.midSize());
    }

    @Test
    void theStandardChainHoldsWhatTheJavadocPromises() {
        Chain chain = Chains.baseMidTop(qemu, dir, ChainShape.standard().withShortMid(MIB));
        byte[] top = chain.expected();

        assertThat(top[0]).as("base-only data").isEqualTo((byte) 0x11);
        assertThat(top[(int) (64 * KIB)]).as("mid-only data").isEqualTo((byte) 0x21);
        assertThat(top[(int) (100 * KIB)]).as("top zero over mid data").isZero();
        assertThat(top[(int) (192 * KIB)]).as("mid zero masks base").isZero();
        assertThat(top[(int) (512 * KIB)])
                .as("base around the mid's partial write")
                .isEqualTo((byte) 0x16);
        assertThat(top[(int) (516 * KIB)]).as("mid's partial write").isEqualTo((byte) 0x22);
        assertThat(top[(int) (MIB)]).as("base data past the short mid").isZero();
        assertThat(chain.expected("mid.qcow2")).hasSize((int) MIB);
        assertThat(chain.expected("base.qcow2")[(int) MIB]).isEqualTo((byte) 0x12);
        assertThat(chain.expected("base.qcow2")[(int) (3 * MIB)])
                .as("compressed cluster")
                .isEqualTo((byte) 0x17);
        assertThat(top[(int) (4 * MIB - 64 * KIB)])
                .as("top zero-unmap over base")
                .isZero();
        assertThat(top[(int) (4 * MIB - 100)]).isEqualTo((byte) 0x33);

        List<MapEntry> map = qemu.map(chain.top());
        assertThat(map.stream()
                        .filter(e -> e.contains(0))
                        .findFirst()
                        .orElseThrow()
                        .depth())
                .isEqualTo(chain.depthOf("base.qcow2"));
        assertThat(map.stream().filter(e -> e.contains(3 * MIB)).findFirst().orElseThrow())
                .as("past the end of the short mid")
                .extracting(MapEntry::present)
                .isEqualTo(false);
        AssertImages.assertReadsPattern(chain.top(), 768 * KIB, 64 * KIB, 0x32);
    }

    @Test
    void builderMakesCustomChainsWithCreationOptions() throws Exception {
        Chain chain = Chains.in(qemu, dir)
                .base("disk.raw", "raw", 2 * MIB)
                .write(0, MIB, 0x01)
                .overlay("l1.qcow2")
                .clusterSize(32768)
                .option("extended_l2=on")
                .write(4 * KIB, 4 * KIB, 0x02)
                .zero(64 * KIB, 8 * KIB)
                .overlay("l2.qcow2")
                .compat("0.10")
                .option("refcount_bits=16")
                .write(3, 5, 0x03)
                .build();

        assertThat(chain.paths())
                .containsExactly(dir.resolve("l2.qcow2"), dir.resolve("l1.qcow2"), dir.resolve("disk.raw"));
        assertThat(qemu.info(chain.path("l1.qcow2"))
                        .path("format-specific")
                        .path("data")
                        .path("extended-l2")
                        .asBoolean())
                .isTrue();
        AssertImages.assertContent(chain.top(), chain.expected());
        AssertImages.assertCheckClean(chain.top());
        AssertImages.assertCheckClean(chain.path("l1.qcow2"));
        AssertImages.assertBacking(chain.path("l1.qcow2"), "disk.raw", "raw");

        Path copy = chain.copyOfTop("l2.orig.qcow2");
        assertThat(Files.exists(copy)).isTrue();
        AssertImages.assertSameContent(copy, chain.top());
    }

    @Test
    void builderRefusesWritesPastALayersEnd() {
        Chains.Builder b = Chains.in(qemu, dir).base("b.qcow2", "qcow2", MIB).write(MIB - 10, 11, 1);
        assertThatThrownBy(b::build)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("past the size");
        assertThatThrownBy(() -> Chains.in(qemu, dir).overlay("x.qcow2")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Chains.in(qemu, dir).base("r.raw", "raw", MIB).writeCompressed(0, 65536, 1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
