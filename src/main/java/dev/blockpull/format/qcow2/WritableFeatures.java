package dev.blockpull.format.qcow2;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.UnsupportedFeatureException;

/** What this engine cannot write safely: an image that has it opens read-only or not at all. */
final class WritableFeatures {

    private WritableFeatures() {}

    /** Refuses a writable open of an image with a feature that writes here would damage. */
    static void require(Qcow2Header h) {
        if (h.hasIncompatible(FeatureBits.INCOMPAT_CORRUPT)) {
            throw new BlockException(BlockErrorKind.READ_ONLY, "Image is corrupt; cannot be opened read/write");
        }
        if (h.hasExtendedL2()) {
            throw refused("extended L2 entries");
        }
        if (h.nbSnapshots() > 0) {
            throw refused("internal snapshots");
        }
        if (h.hasExtension(HeaderExtension.BITMAPS)) {
            throw refused("persistent bitmaps");
        }
    }

    private static UnsupportedFeatureException refused(String feature) {
        return new UnsupportedFeatureException(
                "Writing to qcow2 images with " + feature + " is not supported; open the image read-only");
    }
}
