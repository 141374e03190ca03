package dev.blockpull.testsupport;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Builds backing chains with qemu-img and qemu-io, and keeps, beside the files, what every
 * layer's guest view must read. Layers are created base first; each layer's writes run in one
 * qemu-io call right after it is created, before the next overlay exists, so the lower layers
 * never change under an overlay.
 *
 * <pre>{@code
 * Chain chain = Chains.in(qemu, dir)
 *         .base("base.qcow2", "qcow2", 4 * MIB).clusterSize(4096)
 *             .write(0, 64 * KIB, 0x11)
 *         .overlay("mid.qcow2").size(1 * MIB).compat("0.10")
 *             .write(64 * KIB, 64 * KIB, 0x22).zero(0, 4 * KIB)
 *         .overlay("top.qcow2").size(4 * MIB)
 *             .write(2 * MIB, 4 * KIB, 0x33)
 *         .build();
 * AssertImages.assertContent(chain.top(), chain.expected());
 * }</pre>
 *
 * Or the ready-made {@link #baseMidTop(QemuTools, Path, ChainShape)}.
 */
public final class Chains {

    public static final long KIB = 1024;
    public static final long MIB = 1024 * KIB;

    private Chains() {}

    /** A chain built in {@code dir} (usually a {@code @TempDir}). */
    public static Builder in(QemuTools qemu, Path dir) {
        return new Builder(qemu, dir);
    }

    /** {@link #baseMidTop(QemuTools, Path, ChainShape)} with {@link ChainShape#standard()}. */
    public static Chain baseMidTop(QemuTools qemu, Path dir) {
        return baseMidTop(qemu, dir, ChainShape.standard());
    }

    /**
     * {@code base <- mid <- top} (files {@code base.qcow2} or {@code base.raw}, {@code mid.qcow2},
     * {@code top.qcow2}) with every case a stream job meets, offsets in bytes:
     * <ul>
     *   <li>data only in base (0x11 at 0, 64K), data only in mid (0x21 at 64K, 64K), only in top
     *       (0x32 at 768K, 64K);</li>
     *   <li>a zero write in mid masking base data (base 0x15 at 192K, mid zero 192K+64K);</li>
     *   <li>partial-cluster overwrites: mid 0x22 at 516K+8K over base 0x16 at 512K+64K; top 0x31
     *       at 2M+64K+4K over base 0x13 at 2M+256K; unaligned bytes (mid 0x23 at 700K+123, 1000
     *       bytes; top 0x33 at size-100, 50 bytes);</li>
     *   <li>a top zero over part of a mid data cluster (96K, 32K) and a top zero-with-unmap over
     *       base data (0x14 in base's last 64K);</li>
     *   <li>base data beyond a short mid (0x12 at 1M, 0x13 at 2M): zeros through the top when mid
     *       is shorter;</li>
     *   <li>a compressed base cluster (0x17 at 3M) when the base is qcow2 and 3M is aligned to its
     *       cluster size;</li>
     *   <li>everything else unallocated in every layer.</li>
     * </ul>
     * The middle layer's writes all lie below 1 MiB, so any mid size from 1 MiB works.
     */
    public static Chain baseMidTop(QemuTools qemu, Path dir, ChainShape shape) {
        long size = shape.size();
        boolean qcow2Base = shape.baseFormat().equals("qcow2");
        Builder b = in(qemu, dir)
                .base(qcow2Base ? "base.qcow2" : "base.raw", shape.baseFormat(), size)
                .clusterSize(shape.baseClusterSize())
                .compat(shape.compat())
                .write(0, 64 * KIB, 0x11)
                .write(192 * KIB, 64 * KIB, 0x15)
                .write(512 * KIB, 64 * KIB, 0x16)
                .write(MIB, 64 * KIB, 0x12)
                .write(2 * MIB, 256 * KIB, 0x13)
                .write(size - 64 * KIB, 64 * KIB, 0x14);
        if (qcow2Base && (3 * MIB) % shape.baseClusterSize() == 0) {
            b.writeCompressed(3 * MIB, shape.baseClusterSize(), 0x17);
        }
        b.overlay("mid.qcow2")
                .size(shape.midSize())
                .clusterSize(shape.midClusterSize())
                .compat(shape.compat())
                .write(64 * KIB, 64 * KIB, 0x21)
                .zero(192 * KIB, 64 * KIB)
                .write(516 * KIB, 8 * KIB, 0x22)
                .write(700 * KIB + 123, 1000, 0x23);
        b.overlay("top.qcow2")
                .size(size)
                .clusterSize(shape.topClusterSize())
                .compat(shape.compat())
                .zero(96 * KIB, 32 * KIB)
                .write(768 * KIB, 64 * KIB, 0x32)
                .write(2 * MIB + 64 * KIB, 4 * KIB, 0x31)
                .zeroUnmap(size - 64 * KIB, 64 * KIB)
                .write(size - 100, 50, 0x33);
        return b.build();
    }

    /** Fluent description of a chain; options apply to the layer added last. */
    public static final class Builder {

        private enum OpKind {
            WRITE,
            COMPRESSED,
            ZERO,
            ZERO_UNMAP
        }

        private record Op(OpKind kind, long offset, long length, int pattern) {
            String command() {
                return switch (kind) {
                    case WRITE -> QemuPattern.write(offset, length, pattern);
                    case COMPRESSED -> QemuPattern.writeCompressed(offset, length, pattern);
                    case ZERO -> QemuPattern.zero(offset, length);
                    case ZERO_UNMAP -> QemuPattern.zeroUnmap(offset, length);
                };
            }
        }

        private static final class Spec {
            final String name;
            final String format;

            @Nullable
            Long size;

            int clusterSize = 65536;
            String compat = "1.1";
            final List<String> options = new ArrayList<>();
            final List<Op> ops = new ArrayList<>();

            Spec(String name, String format, @Nullable Long size) {
                this.name = name;
                this.format = format;
                this.size = size;
            }
        }

        private final QemuTools qemu;
        private final Path dir;
        private final List<Spec> specs = new ArrayList<>();

        private Builder(QemuTools qemu, Path dir) {
            this.qemu = qemu;
            this.dir = dir;
        }

        /** The bottom layer: {@code qcow2} or {@code raw}, of {@code size} bytes. */
        public Builder base(String fileName, String format, long size) {
            if (!specs.isEmpty()) {
                throw new IllegalStateException("the base must come first");
            }
            if (!format.equals("qcow2") && !format.equals("raw")) {
                throw new IllegalArgumentException("format must be qcow2 or raw: " + format);
            }
            specs.add(new Spec(fileName, format, size));
            return this;
        }

        /** A qcow2 overlay of the previous layer, of the same size unless {@link #size} says otherwise. */
        public Builder overlay(String fileName) {
            if (specs.isEmpty()) {
                throw new IllegalStateException("add a base first");
            }
            specs.add(new Spec(fileName, "qcow2", null));
            return this;
        }

        public Builder size(long bytes) {
            current().size = bytes;
            return this;
        }

        /** qcow2 cluster size (512 to 2 MiB); ignored for raw. */
        public Builder clusterSize(int bytes) {
            current().clusterSize = bytes;
            return this;
        }

        /** {@code "1.1"} (v3, default) or {@code "0.10"} (v2); ignored for raw. */
        public Builder compat(String compat) {
            current().compat = compat;
            return this;
        }

        /** Another {@code -o key=value} creation option, e.g. {@code extended_l2=on}, {@code refcount_bits=1}. */
        public Builder option(String keyValue) {
            current().options.add(keyValue);
            return this;
        }

        /** {@code write -P pattern offset length}. */
        public Builder write(long offset, long length, int pattern) {
            return op(new Op(OpKind.WRITE, offset, length, pattern));
        }

        /** {@code write -c -P}: whole clusters that are still unallocated in this layer; qcow2 only. */
        public Builder writeCompressed(long offset, long length, int pattern) {
            if (!current().format.equals("qcow2")) {
                throw new IllegalArgumentException("compressed writes need qcow2");
            }
            return op(new Op(OpKind.COMPRESSED, offset, length, pattern));
        }

        /** {@code write -z}: reads as zeros; the layers below no longer show through. */
        public Builder zero(long offset, long length) {
            return op(new Op(OpKind.ZERO, offset, length, 0));
        }

        /** {@code write -z -u}: as {@link #zero}, and data clusters may be freed. */
        public Builder zeroUnmap(long offset, long length) {
            return op(new Op(OpKind.ZERO_UNMAP, offset, length, 0));
        }

        private Builder op(Op op) {
            if (op.offset < 0 || op.length <= 0) {
                throw new IllegalArgumentException("bad range " + op.offset + "+" + op.length);
            }
            if (op.pattern < 0 || op.pattern > 0xff) {
                throw new IllegalArgumentException("pattern is one byte: " + op.pattern);
            }
            current().ops.add(op);
            return this;
        }

        private Spec current() {
            if (specs.isEmpty()) {
                throw new IllegalStateException("add a base first");
            }
            return specs.get(specs.size() - 1);
        }

        /** Creates the files (which must not exist yet), plants the writes, computes the views. */
        public Chain build() {
            if (specs.isEmpty()) {
                throw new IllegalStateException("empty chain");
            }
            List<Chain.Layer> layers = new ArrayList<>();
            List<byte[]> views = new ArrayList<>();
            byte[] below = new byte[0];
            Path previous = null;
            for (Spec spec : specs) {
                long size = spec.size != null
                        ? spec.size
                        : layers.get(layers.size() - 1).size();
                if (size <= 0 || size > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException(
                            spec.name + ": the in-memory model holds sizes up to 2 GiB: " + size);
                }
                Path path = dir.resolve(spec.name);
                createLayer(spec, path, previous, size);
                LayerModel model = new LayerModel((int) size, spec.format.equals("raw"));
                List<String> commands = new ArrayList<>();
                for (Op op : spec.ops) {
                    if (op.offset + op.length > size) {
                        throw new IllegalArgumentException(
                                spec.name + ": " + op.command() + " ends past the size " + size);
                    }
                    model.apply(op);
                    commands.add(op.command());
                }
                if (!commands.isEmpty()) {
                    qemu.io(path, spec.format, commands.toArray(String[]::new));
                }
                below = model.view(below);
                views.add(below);
                boolean raw = spec.format.equals("raw");
                layers.add(new Chain.Layer(
                        spec.name, path, spec.format, size, raw ? 512 : spec.clusterSize, raw ? null : spec.compat));
                previous = path;
            }
            return new Chain(dir, reversed(layers), reversed(views));
        }

        private void createLayer(Spec spec, Path path, @Nullable Path backing, long size) {
            if (spec.format.equals("raw")) {
                qemu.create(path, "raw", Long.toString(size));
                return;
            }
            List<String> opts = new ArrayList<>(List.of("cluster_size=" + spec.clusterSize, "compat=" + spec.compat));
            opts.addAll(spec.options);
            if (backing == null) {
                qemu.create(path, "qcow2", Long.toString(size), "-o", String.join(",", opts));
            } else {
                opts.add("size=" + size);
                qemu.createOverlay(path, backing, "-o", String.join(",", opts));
            }
        }

        private static <T> List<T> reversed(List<T> list) {
            List<T> r = new ArrayList<>(list);
            java.util.Collections.reverse(r);
            return r;
        }
    }

    /**
     * One layer's own content at byte granularity: what was written and where. (qcow2 allocates
     * whole clusters and fills the rest of a partly written cluster from the backing chain, which
     * yields the same guest view, because the layers below are final when a layer is written.)
     */
    private static final class LayerModel {
        private final byte[] data;
        private final BitSet written;

        LayerModel(int size, boolean raw) {
            this.data = new byte[size];
            this.written = new BitSet(size);
            if (raw) {
                // A raw file is "allocated" everywhere: a fresh one reads as zeros, and nothing below it shows.
                written.set(0, size);
            }
        }

        void apply(Builder.Op op) {
            int from = (int) op.offset();
            int to = (int) (op.offset() + op.length());
            QemuPattern.fill(data, from, to - from, op.pattern());
            written.set(from, to);
        }

        /** This layer over {@code below} (the guest view of the chain under it, with its own size). */
        byte[] view(byte[] below) {
            byte[] view = new byte[data.length];
            System.arraycopy(below, 0, view, 0, Math.min(below.length, view.length));
            for (int i = written.nextSetBit(0); i >= 0 && i < data.length; ) {
                int end = written.nextClearBit(i);
                System.arraycopy(data, i, view, i, Math.min(end, data.length) - i);
                i = written.nextSetBit(end);
            }
            return view;
        }
    }
}
