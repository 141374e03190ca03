package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A {@code blkdebug} filter to open over an image node, like blockdev-add's
 * {@code {"driver": "blkdebug", "image": ...}}.
 *
 * @param nodeName null: a generated {@code #block...} name (the filter closes with its parent)
 * @param image    the filtered node: an opened one ({@link NodeDefinition.Existing}) or one defined
 *                 inline ({@link NodeDefinition.Nested})
 * @param rules    the rules in force from the start
 */
public record FaultFilterDefinition(
        @Nullable String nodeName, NodeDefinition.BackingDefinition image, List<InjectedError> rules) {

    public FaultFilterDefinition {
        if (!(image instanceof NodeDefinition.Existing || image instanceof NodeDefinition.Nested)) {
            throw new BlockException(
                    BlockErrorKind.INVALID_ARGUMENT,
                    "Driver 'blkdebug' needs 'image': the name of an opened node or a qcow2/raw node definition");
        }
        rules = List.copyOf(rules);
    }
}
