package dev.blockpull.format;

import dev.blockpull.io.FileOpener;
import dev.blockpull.io.Zeros;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An image and its whole backing chain, opened together: what {@code qemu-img convert},
 * {@code map} and {@code info --backing-chain} see. Reads fall through unallocated ranges; bytes
 * past the end of a shorter backing layer read as zeros (qcow2-notes §7).
 */
public final class ImageChain implements AutoCloseable {

    private final List<Image> layers;

    private ImageChain(List<Image> layers) {
        this.layers = List.copyOf(layers);
        for (int d = 0; d + 1 < layers.size(); d++) {
            int below = d + 1;
            layers.get(d).attachBacking((offset, dst) -> read(below, offset, dst));
        }
    }

    /**
     * Opens {@code top} and every backing file its headers name, all-or-nothing, at most
     * {@code maxDepth} layers. Backing layers are opened read-only; loops are refused.
     */
    public static ImageChain open(
            Path top, ImageFormat format, BackingResolver resolver, int maxDepth, boolean readOnly) {
        return open(top, format, resolver, maxDepth, readOnly, FileOpener.PLAIN);
    }

    /** {@link #open(Path, ImageFormat, BackingResolver, int, boolean)}, every layer opened through {@code opener}. */
    public static ImageChain open(
            Path top, ImageFormat format, BackingResolver resolver, int maxDepth, boolean readOnly, FileOpener opener) {
        return open(top, format, new ChainOpening(resolver, maxDepth, Path::toString), readOnly, opener);
    }

    /** Opens {@code top} and its backing chain under {@code policy}, all-or-nothing; backing layers read-only. */
    public static ImageChain open(
            Path top, ImageFormat format, ChainOpening policy, boolean readOnly, FileOpener opener) {
        List<Image> opened = new ArrayList<>();
        try {
            ChainOpening.Walk walk = policy.walk(opener);
            walk.enterTop(top, 1);
            Image image = ImageOpener.open(top, format, readOnly, false, opener);
            opened.add(image);
            walk.followBacking(top, image.backing().orElse(null), 1, (path, fmt) -> {
                Image layer = ImageOpener.open(path, fmt, true, false, opener);
                opened.add(layer);
                return layer.backing().orElse(null);
            });
            return new ImageChain(opened);
        } catch (RuntimeException e) {
            for (Image i : opened) {
                try {
                    i.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** Top first. */
    public List<Image> layers() {
        return layers;
    }

    public Image top() {
        return layers.get(0);
    }

    /** Guest-visible content of the chain. */
    public void read(long offset, ByteBuffer dst) {
        read(0, offset, dst);
    }

    private void read(int depth, long offset, ByteBuffer dst) {
        Image layer = layers.get(depth);
        long inside = Math.max(0, Math.min(dst.remaining(), layer.virtualSize() - offset));
        int limit = dst.limit();
        if (inside > 0) {
            for (Extent e : layer.blockStatus(offset, inside)) {
                dst.limit(dst.position() + (int) e.length());
                if (e.kind().isAllocated() || depth + 1 == layers.size()) {
                    layer.read(e.offset(), dst);
                } else {
                    read(depth + 1, e.offset(), dst);
                }
                dst.limit(limit);
            }
        }
        Zeros.fill(dst);
    }

    /** Allocation of the chain with the depth of the providing layer, clipped to the top's size. */
    public List<ChainExtent> map(long offset, long length) {
        List<ChainExtent> out = new ArrayList<>();
        long end = Math.min(top().virtualSize(), offset + Math.max(0, length));
        if (offset >= 0 && offset < end) {
            map(0, offset, end, out);
        }
        return out;
    }

    private void map(int depth, long offset, long end, List<ChainExtent> out) {
        Image layer = layers.get(depth);
        if (offset >= layer.virtualSize()) {
            ChainExtent.appendMerged(
                    out, new ChainExtent(offset, end - offset, depth, ExtentKind.UNALLOCATED, Extent.NO_HOST_OFFSET));
            return;
        }
        long inside = Math.min(end, layer.virtualSize());
        for (Extent e : layer.blockStatus(offset, inside - offset)) {
            if (e.kind().isAllocated()) {
                ChainExtent.appendMerged(out, new ChainExtent(e.offset(), e.length(), depth, e.kind(), e.hostOffset()));
            } else if (depth + 1 < layers.size()) {
                // QEMU (bdrv_co_block_status) answers "zero, not allocated" at THIS depth for the
                // part of an unallocated run that lies past the end of the backing layer: the
                // lookup stops here, it does not descend into the shorter layer.
                long below = Math.min(
                        e.end(), Math.max(e.offset(), layers.get(depth + 1).virtualSize()));
                if (below > e.offset()) {
                    map(depth + 1, e.offset(), below, out);
                }
                if (below < e.end()) {
                    ChainExtent.appendMerged(
                            out,
                            new ChainExtent(
                                    below,
                                    e.end() - below,
                                    depth,
                                    ExtentKind.UNALLOCATED,
                                    e.hasHostOffset() ? e.hostOffset() + (below - e.offset()) : Extent.NO_HOST_OFFSET));
                }
            } else {
                // the bottom answers; an unallocated subcluster of an allocated cluster keeps its offset
                ChainExtent.appendMerged(
                        out, new ChainExtent(e.offset(), e.length(), depth, ExtentKind.UNALLOCATED, e.hostOffset()));
            }
        }
        if (inside < end) {
            ChainExtent.appendMerged(
                    out, new ChainExtent(inside, end - inside, depth, ExtentKind.UNALLOCATED, Extent.NO_HOST_OFFSET));
        }
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (Image i : layers) {
            try {
                i.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
