package dev.blockpull.graph;

import org.jspecify.annotations.Nullable;

/**
 * What to open as a node, like a blockdev-add argument.
 *
 * @param nodeName null: a generated {@code #block...} name
 * @param driver   {@link Driver#QCOW2} or {@link Driver#RAW}
 * @param file     the image file
 * @param backing  where the COW child comes from
 * @param readOnly open the node read-only (a job may reopen it read-write)
 */
public record NodeDefinition(
        @Nullable String nodeName, Driver driver, FileDefinition file, BackingDefinition backing, boolean readOnly) {

    /**
     * The image file of a format node.
     *
     * @param filename relative to the data root
     * @param readOnly the storage itself is read-only: the node can never become writable
     */
    public record FileDefinition(String filename, boolean readOnly) {}

    /** Where a node's backing node comes from. */
    public sealed interface BackingDefinition {}

    /** The chain named in the image headers, opened with generated names (backing omitted). */
    public record FromHeader() implements BackingDefinition {}

    /** No backing node ({@code backing: null}); unallocated ranges read as zeros. */
    public record NoBacking() implements BackingDefinition {}

    /** An already opened node. */
    public record Existing(String nodeName) implements BackingDefinition {}

    /** A node defined inline. */
    public record Nested(NodeDefinition definition) implements BackingDefinition {}

    /** A fault-injection filter defined inline over the backing layer. */
    public record FaultFilter(FaultFilterDefinition definition) implements BackingDefinition {}
}
