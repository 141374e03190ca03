package dev.blockpull.format;

import java.nio.file.Path;

/**
 * Turns the backing file name found in an image header into a file to open, or refuses it
 * ({@code INVALID_ARGUMENT}) when policy forbids it: outside the data root, protocol prefixes,
 * {@code json:}, control characters. The service's data root implements it.
 */
@FunctionalInterface
public interface BackingResolver {

    Path resolve(Path image, BackingReference reference);
}
