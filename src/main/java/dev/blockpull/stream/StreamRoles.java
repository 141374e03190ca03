package dev.blockpull.stream;

import dev.blockpull.graph.BackingChain;
import dev.blockpull.graph.BlockNode;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import org.jspecify.annotations.Nullable;

/**
 * The roles of stream-semantics §1.3, found at set-up (step 10).
 *
 * @param device      the node named by {@code device}
 * @param top         {@code skipFilters(device)}: receives the data and the new backing link
 * @param baseOverlay the lowest layer whose data is copied ("bottom")
 * @param aboveBase   the node whose {@code next} is the base; re-read at completion
 */
record StreamRoles(BlockNode device, BlockNode top, BlockNode baseOverlay, BlockNode aboveBase) {

    /** Nothing to stream (§4.4): the top is the lowest layer to copy from. */
    boolean nothingToStream() {
        return top == baseOverlay;
    }

    /** The base as it is now: {@code next(aboveBase)}; may differ from the start (§1.3). */
    @Nullable
    BlockNode currentBase() {
        return BackingChain.next(aboveBase);
    }

    static StreamRoles of(StreamPlan plan) {
        BlockNode device = plan.device();
        BlockNode top = BackingChain.skipFilters(device);
        if (plan.bottom() != null) {
            return new StreamRoles(device, top, plan.bottom(), plan.bottom());
        }
        BlockNode base = plan.base();
        BlockNode overlay = BackingChain.findOverlay(device, base);
        if (overlay == null) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "'" + (base == null ? "" : base.name()) + "' is not in the backing chain of '" + device.name()
                            + "'");
        }
        // Only filters can sit between the overlay and the base.
        BlockNode above = overlay;
        if (BackingChain.cow(above) != base) {
            above = BackingChain.cow(above);
            while (above != null && BackingChain.next(above) != base) {
                above = BackingChain.next(above);
            }
            if (above == null) {
                throw new BlockException(
                        BlockErrorKind.INVALID_ARGUMENT,
                        "'" + (base == null ? "" : base.name()) + "' is not in the backing chain of '" + device.name()
                                + "'");
            }
        }
        return new StreamRoles(device, top, overlay, above);
    }
}
