package dev.blockpull.graph;

import dev.blockpull.format.ChainOpening;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.DataRoot;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which format node has which image file open, by file identity (dev/inode): a file may be open
 * twice only when both opens are read-only, because two caches of one qcow2 that could write
 * corrupt it.
 */
final class OpenFiles {

    private final DataRoot root;
    private final Map<BlockNode, Object> keys = new ConcurrentHashMap<>();

    OpenFiles(DataRoot root) {
        this.root = root;
    }

    /** The file's identity, looked up beneath the root like the open. */
    Object identity(Path path) {
        return ChainOpening.fileIdentity(path, root.files());
    }

    void add(BlockNode node, Object key) {
        keys.put(node, key);
    }

    /** Records the node's file again (a reopen may have opened it anew). */
    void update(FormatNode node) {
        keys.put(node, identity(node.path()));
    }

    void remove(BlockNode node) {
        keys.remove(node);
    }

    /** @throws BlockException CONFLICT when the file is open already and either open could write */
    void checkNotOpenElsewhere(Object key, String relative, boolean readOnly) {
        for (Map.Entry<BlockNode, Object> e : keys.entrySet()) {
            if (e.getValue().equals(key) && (!readOnly || !e.getKey().isReadOnly())) {
                throw new BlockException(
                        BlockErrorKind.CONFLICT,
                        "Image '" + relative + "' is already open as node '"
                                + e.getKey().name() + "'; refer to that node (\"backing\": \""
                                + e.getKey().name()
                                + "\") instead of opening the file twice");
            }
        }
    }

    /** The node that has the file open, a writable one first: the one whose view of the image is current. */
    Optional<FormatNode> nodeOf(Path path) {
        Object key = identity(path);
        FormatNode found = null;
        for (Map.Entry<BlockNode, Object> e : keys.entrySet()) {
            if (e.getValue().equals(key)
                    && e.getKey() instanceof FormatNode n
                    && !n.isClosed()
                    && (found == null || !n.isReadOnly())) {
                found = n;
            }
        }
        return Optional.ofNullable(found);
    }
}
