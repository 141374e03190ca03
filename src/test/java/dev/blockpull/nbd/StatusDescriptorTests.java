package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.STATE_HOLE;
import static dev.blockpull.nbd.NbdProtocol.STATE_ZERO;
import static org.assertj.core.api.Assertions.assertThat;

import dev.blockpull.format.ChainExtent;
import dev.blockpull.format.Extent;
import dev.blockpull.format.ExtentKind;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The block status descriptors of base:allocation and qemu:allocation-depth. */
class StatusDescriptorTests {

    private static final long MIB = 1 << 20;

    @Test
    void baseAllocationMergesZerosAndUnallocatedIntoOneHole() {
        List<ChainExtent> extents = List.of(
                extent(0, MIB, 0, ExtentKind.DATA),
                extent(MIB, MIB, 1, ExtentKind.ZERO),
                extent(2 * MIB, MIB, 2, ExtentKind.UNALLOCATED),
                extent(3 * MIB, MIB, 1, ExtentKind.DATA));

        assertThat(StatusDescriptor.of(extents, false, false))
                .containsExactly(
                        new StatusDescriptor(MIB, 0),
                        new StatusDescriptor(2 * MIB, STATE_HOLE | STATE_ZERO),
                        new StatusDescriptor(MIB, 0));
    }

    @Test
    void allocationDepthCountsLayersFromOneAndUnallocatedAsZero() {
        List<ChainExtent> extents = List.of(
                extent(0, MIB, 0, ExtentKind.DATA),
                extent(MIB, MIB, 1, ExtentKind.ZERO),
                extent(2 * MIB, MIB, 2, ExtentKind.UNALLOCATED));

        assertThat(StatusDescriptor.of(extents, true, false))
                .containsExactly(
                        new StatusDescriptor(MIB, 1), new StatusDescriptor(MIB, 2), new StatusDescriptor(MIB, 0));
    }

    @Test
    void reqOneGivesOnlyTheFirstDescriptorMergedAsFarAsItGoes() {
        List<ChainExtent> extents = List.of(
                extent(0, MIB, 0, ExtentKind.DATA),
                extent(MIB, MIB, 1, ExtentKind.DATA),
                extent(2 * MIB, MIB, 0, ExtentKind.ZERO));

        assertThat(StatusDescriptor.of(extents, false, true)).containsExactly(new StatusDescriptor(2 * MIB, 0));
    }

    @Test
    void aReplyCarriesAtMostMaxDescriptors() {
        List<ChainExtent> extents = new ArrayList<>();
        for (int i = 0; i < StatusDescriptor.MAX_DESCRIPTORS + 2; i++) {
            extents.add(extent(i * 512L, 512, 0, i % 2 == 0 ? ExtentKind.DATA : ExtentKind.ZERO));
        }

        assertThat(StatusDescriptor.of(extents, false, false)).hasSize(StatusDescriptor.MAX_DESCRIPTORS);
    }

    @Test
    void aLengthBeyond32BitsIsCappedOnTheWire() {
        StatusDescriptor d = StatusDescriptor.of(
                        List.of(
                                extent(0, 3L << 30, 0, ExtentKind.DATA),
                                extent(3L << 30, 3L << 30, 0, ExtentKind.DATA)),
                        false,
                        false)
                .get(0);

        assertThat(d.length()).isEqualTo(6L << 30);
        assertThat(Integer.toUnsignedLong(d.wireLength())).isEqualTo(0xFFFFFFFFL);
    }

    private static ChainExtent extent(long offset, long length, int depth, ExtentKind kind) {
        return new ChainExtent(offset, length, depth, kind, Extent.NO_HOST_OFFSET);
    }
}
