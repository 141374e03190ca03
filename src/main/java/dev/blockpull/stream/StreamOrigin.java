package dev.blockpull.stream;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The chain of a stream job as it stood at the start, by file name (relative to the data root):
 * what a restart needs to find the job's nodes again, whatever names they get, and to tell
 * whether the job's completion had already rewritten the top's header.
 *
 * @param topFile       the image that receives the data
 * @param backingBefore the file the top's header named at the start; null: none
 * @param backingAfter  the file completion makes it name (the base); null: none
 * @param baseFile      the file of the {@code base}/{@code baseNode} node, if any
 * @param bottomFile    the file of the {@code bottom} node, if any
 */
public record StreamOrigin(
        String topFile,
        @Nullable String backingBefore,
        @Nullable String backingAfter,
        @Nullable String baseFile,
        @Nullable String bottomFile) {

    /** The completion has happened: the top names the base now, not what it named at the start. */
    public boolean completedWith(@Nullable String currentBacking) {
        return !Objects.equals(backingBefore, backingAfter) && Objects.equals(currentBacking, backingAfter);
    }
}
