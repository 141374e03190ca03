package dev.blockpull.format;

import org.jspecify.annotations.Nullable;

/**
 * The backing file recorded in an image header: the name exactly as stored (relative names are
 * relative to the directory of the image holding them) and the format, when the header names one.
 */
public record BackingReference(String fileName, @Nullable ImageFormat format) {

    public BackingReference {
        if (fileName.isEmpty()) {
            throw new IllegalArgumentException("empty backing file name");
        }
    }
}
