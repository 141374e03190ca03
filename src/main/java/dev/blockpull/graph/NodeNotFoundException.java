package dev.blockpull.graph;

import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;

/**
 * No node has the name. QEMU reports failed node lookups as GenericError (blockdev-del's
 * "Failed to find node with node-name='X'", block-stream's "Cannot find device=... nor
 * node-name=..."), so this type maps to GenericError too; callers pick the text.
 */
public class NodeNotFoundException extends BlockException {

    private final String nodeName;

    public NodeNotFoundException(String nodeName, String message) {
        super(BlockErrorKind.NOT_FOUND, message);
        this.nodeName = nodeName;
    }

    /** blockdev-del's wording. */
    public static NodeNotFoundException of(String nodeName) {
        return new NodeNotFoundException(nodeName, "Failed to find node with node-name='" + nodeName + "'");
    }

    public String nodeName() {
        return nodeName;
    }
}
