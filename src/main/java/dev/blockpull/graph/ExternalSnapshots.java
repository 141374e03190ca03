package dev.blockpull.graph;

import dev.blockpull.format.BackingReference;
import dev.blockpull.format.CreateOptions;
import dev.blockpull.format.Image;
import dev.blockpull.format.ImageCreator;
import dev.blockpull.format.ImageFormat;
import dev.blockpull.io.BlockErrorKind;
import dev.blockpull.io.BlockException;
import dev.blockpull.io.BlockIoException;
import dev.blockpull.io.DataRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * External snapshots (blockdev-snapshot-sync): a new qcow2 overlay over a node's image takes the
 * node's place for its parents and users, and the old image becomes read-only, as in QEMU.
 */
final class ExternalSnapshots {

    private static final Logger log = LoggerFactory.getLogger(ExternalSnapshots.class);

    private final NodeGraph graph;
    private final DataRoot root;

    ExternalSnapshots(NodeGraph graph) {
        this.graph = graph;
        this.root = graph.dataRoot();
    }

    /**
     * Makes (or, with {@code create} false, finds again after a restart) the overlay of
     * {@code nodeName} in {@code overlayFile} and opens it as {@code overlayName}.
     */
    FormatNode snapshot(
            String nodeName,
            String overlayFile,
            @Nullable String overlayName,
            @Nullable Duration maxDrainWait,
            boolean create) {
        return graph.lock().call(() -> {
            BlockNode node = graph.get(nodeName);
            node.checkNotBlocked(BlockOp.EXTERNAL_SNAPSHOT);
            if (!(BackingChain.skipFilters(node) instanceof FormatNode data)) {
                throw new BlockException(
                        BlockErrorKind.INVALID_ARGUMENT, "Node '" + nodeName + "' has no image to snapshot");
            }
            if (overlayName != null) {
                graph.registry().checkNewName(overlayName);
            }
            Path overlayPath = root.resolve(overlayFile);
            String relative = root.relativize(overlayPath);
            boolean exists = Files.exists(overlayPath, LinkOption.NOFOLLOW_LINKS);
            if (create && exists) {
                throw new BlockException(
                        BlockErrorKind.CONFLICT,
                        "Image '" + relative
                                + "' already exists; choose another snapshotFile (existing files are never overwritten)");
            }
            if (!create && !exists) {
                throw new BlockException(BlockErrorKind.NOT_FOUND, "Snapshot overlay '" + relative + "' is gone");
            }
            Relink.checkParentsNotFrozen(node);
            if (create) {
                createOverlay(overlayPath, data, node.length());
            }
            FormatNode overlay;
            try {
                overlay = openOverlay(overlayPath, relative, overlayName, create ? null : data);
            } catch (RuntimeException e) {
                if (create) {
                    deleteQuietly(overlayPath);
                }
                throw e;
            }
            try (DrainedSection section = graph.drain(node, null, maxDrainWait)) {
                section.join(overlay);
                Relink.replace(node, overlay);
                Relink.point(Objects.requireNonNull(overlay.backingLink()), node);
                graph.registry().add(overlay);
                graph.registry().add(overlay.file());
                graph.openFiles().add(overlay, graph.openFiles().identity(overlayPath));
                if (data.file().isStorageReadOnly() || !data.isReadOnly()) {
                    reopenReadOnlyQuietly(data);
                }
            } catch (RuntimeException e) {
                overlay.closeResources();
                if (create) {
                    deleteQuietly(overlayPath);
                }
                throw e;
            }
            log.info("Snapshot of {} in {} as node {}", nodeName, relative, overlay.name());
            return overlay;
        });
    }

    /** Opens the overlay read-write; {@code mustName}: it must name that node's image as its backing file. */
    private FormatNode openOverlay(
            Path overlayPath, String relative, @Nullable String overlayName, @Nullable FormatNode mustName) {
        Image image = graph.opener()
                .open(overlayPath, ImageFormat.QCOW2, false, graph.settings().directIo());
        if (mustName != null) {
            checkNamesBacking(image, overlayPath, relative, mustName);
        }
        return graph.newFormatNode(overlayName, overlayPath, image, false, fileSize(overlayPath), true);
    }

    private void checkNamesBacking(Image overlay, Path overlayPath, String relative, FormatNode node) {
        BackingReference ref = overlay.backing().orElse(null);
        Path named = ref == null ? null : root.resolveBacking(overlayPath, ref.fileName());
        if (named == null || !named.equals(node.path())) {
            overlay.close();
            throw new BlockException(
                    BlockErrorKind.CONFLICT,
                    "Snapshot overlay '" + relative + "' changed: its header "
                            + "names " + (ref == null ? "no backing file" : "'" + ref.fileName() + "'") + ", not '"
                            + root.relativize(node.path()) + "'");
        }
    }

    private void createOverlay(Path overlayPath, FormatNode backing, long size) {
        Path dir = overlayPath.getParent();
        String backingName = dir.relativize(backing.path()).toString();
        // every backing string written passes the check applied to the ones read
        root.resolveBacking(overlayPath, backingName);
        ImageCreator.create(
                overlayPath,
                CreateOptions.qcow2(size, new BackingReference(backingName, backing.format())),
                root.files());
    }

    private void reopenReadOnlyQuietly(FormatNode node) {
        try {
            node.reopen(true);
            graph.openFiles().update(node);
        } catch (RuntimeException e) {
            log.warn("Could not reopen {} read-only after the snapshot: {}", node.name(), e.toString());
        }
    }

    private long fileSize(Path p) {
        try {
            return root.files().attributes(p).size();
        } catch (IOException e) {
            throw new BlockIoException("Cannot read the size of " + p + ": " + e.getMessage(), e);
        }
    }

    private void deleteQuietly(Path p) {
        try {
            root.files().deleteIfExists(p);
        } catch (IOException ignored) {
            // the original failure is the one to report
        }
    }
}
