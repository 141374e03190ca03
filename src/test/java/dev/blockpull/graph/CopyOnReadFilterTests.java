package dev.blockpull.graph;

import static dev.blockpull.testsupport.AssertImages.assertCheckClean;
import static dev.blockpull.testsupport.AssertImages.assertContent;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.blockpull.format.ChainExtent;
import dev.blockpull.testsupport.Chain;
import dev.blockpull.testsupport.Chains;
import dev.blockpull.testsupport.QemuTools;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The copy-on-read filter: copies what the layers down to bottom hold, never over a writer's data. */
class CopyOnReadFilterTests {

    static final long KIB = 1024;

    @TempDir
    Path dir;

    QemuTools qemu;
    GraphFixture fx;

    @BeforeEach
    void setUp() {
        qemu = QemuTools.require();
        fx = new GraphFixture(dir);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    CopyOnReadFilter insertFilter(BlockNode above, BlockNode bottom) {
        try (DrainedSection s = fx.graph.drain(above)) {
            return fx.graph.insertCopyOnReadFilter(s, above, null, bottom);
        }
    }

    @Test
    void aReadThroughTheFilterCopiesIntermediateDataButNotBaseData() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        FormatNode top = fx.open("top", "top.qcow2");
        BlockNode mid = top.backingNode();
        CopyOnReadFilter filter = insertFilter(top, mid);

        byte[] seen = GraphFixture.readAll(filter);

        assertThat(seen).isEqualTo(chain.expected());
        List<ChainExtent> map = BackingChain.map(top, 0, top.length());
        assertThat(map).as("nothing is left to read from mid").noneMatch(e -> e.depth() == 1);
        assertThat(map)
                .as("base-only data stays in base")
                .anyMatch(e -> e.depth() == 2 && e.kind().isAllocated());
        assertThat(filter.isImplicit()).isTrue();
        try (DrainedSection s = fx.graph.drain(filter)) {
            fx.graph.dropFilter(s, filter);
        }
        fx.close();
        assertCheckClean(chain.top());
        assertContent(chain.top(), chain.expected());
    }

    @Test
    void insertionMovesParentsAndAttachmentsToTheFilterAndDropMovesThemBack() {
        Chains.baseMidTop(qemu, dir);
        FormatNode mid = fx.open("mid", "mid.qcow2");
        qemu.createOverlay(dir.resolve("top.qcow2"), dir.resolve("mid.qcow2"));
        FormatNode top = fx.open("top", "top.qcow2", new NodeDefinition.Existing("mid"));
        Attachment guest = fx.graph.attach(Holder.export("vm1"), mid, true, Set.of(), EnumSet.allOf(Permission.class));

        CopyOnReadFilter filter;
        try (DrainedSection s = fx.graph.drain(mid)) {
            filter = fx.graph.insertCopyOnReadFilter(s, mid, "cor1", null);
        }

        assertThat(top.backingNode()).isSameAs(filter);
        assertThat(guest.root()).isSameAs(filter);
        assertThat(BackingChain.chain(top)).extracting(BlockNode::name).startsWith("top", "cor1", "mid");
        assertThat(BackingChain.chainNext(top)).isSameAs(mid);
        assertThat(fx.graph.get("cor1").isImplicit()).isFalse();
        try (DrainedSection s = fx.graph.drain(filter)) {
            fx.graph.dropFilter(s, filter);
        }
        assertThat(top.backingNode()).isSameAs(mid);
        assertThat(guest.root()).isSameAs(mid);
        assertThat(fx.graph.find("cor1")).isEmpty();
    }

    @Test
    void aPrefetchNeverOverwritesWhatAWriterPutIntoTheTop() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        FormatNode top = fx.open("top", "top.qcow2");
        CopyOnReadFilter filter = insertFilter(top, null);
        ByteBuffer data = ByteBuffer.allocate(4096);
        Arrays.fill(data.array(), (byte) 0x77);

        filter.write(64 * KIB + 8 * KIB, data);
        filter.prefetch(0, top.length(), ByteBuffer.allocateDirect(1 << 20));

        byte[] expected = chain.expected();
        Arrays.fill(expected, (int) (72 * KIB), (int) (76 * KIB), (byte) 0x77);
        assertThat(GraphFixture.readAll(top)).isEqualTo(expected);
        assertThat(BackingChain.map(top, 0, top.length()))
                .as("all data now comes from the top")
                .allMatch(e -> e.depth() == 0 || !e.kind().isAllocated());
    }

    @Test
    void aPrefetchCopiesAdjacentRunsOfDifferentLayersWithOneWriteIntoTheTop() {
        Chain chain = Chains.in(qemu, dir)
                .base("base.qcow2", "qcow2", 1 << 20)
                .write(0, 64 * KIB, 0x11)
                .write(128 * KIB, 64 * KIB, 0x33)
                .overlay("mid.qcow2")
                .write(64 * KIB, 64 * KIB, 0x22)
                .overlay("top.qcow2")
                .build();
        FormatNode top = fx.open("top", "top.qcow2");
        CopyOnReadFilter filter = insertFilter(top, null);
        long writesBefore = fx.images.counters(chain.top()).writes();

        filter.prefetch(0, 192 * KIB, ByteBuffer.allocateDirect(1 << 20));

        assertThat(fx.images.counters(chain.top()).writes() - writesBefore).isEqualTo(1);
        assertThat(GraphFixture.readAll(top)).isEqualTo(chain.expected());
    }

    @Test
    void aPrefetchWritesAllZeroClustersInsideACopiedRunAsZeroClusters() {
        Chain chain = Chains.in(qemu, dir)
                .base("base.qcow2", "qcow2", 1 << 20)
                .write(0, 64 * KIB, 0x11)
                .write(64 * KIB, 64 * KIB, 0)
                .write(128 * KIB, 64 * KIB, 0x33)
                .overlay("top.qcow2")
                .build();
        FormatNode top = fx.open("top", "top.qcow2");
        CopyOnReadFilter filter = insertFilter(top, null);

        filter.prefetch(0, 192 * KIB, ByteBuffer.allocateDirect(1 << 20));

        assertThat(top.imageForInspection().blockStatus(0, 192 * KIB))
                .extracting(e -> e.kind().name(), e -> e.length())
                .containsExactly(tuple("DATA", 64 * KIB), tuple("ZERO", 64 * KIB), tuple("DATA", 64 * KIB));
        assertThat(GraphFixture.readAll(top)).isEqualTo(chain.expected());
    }

    @Test
    void aPrefetchReadsTheLayersBelowAsReadOnceData() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        FormatNode top = fx.open("top", "top.qcow2");
        CopyOnReadFilter filter = insertFilter(top, null);

        filter.prefetch(0, top.length(), ByteBuffer.allocateDirect(1 << 20));

        assertThat(fx.images.counters(dir.resolve("mid.qcow2")).readsOnce()).isPositive();
        assertThat(fx.images.counters(dir.resolve("base.qcow2")).readsOnce()).isPositive();
        assertThat(fx.images.counters(chain.top()).readsOnce())
                .as("the top is never read for a copy")
                .isZero();
    }

    @Test
    void aGuestReadThroughTheFilterIsAnOrdinaryReadOfTheTop() {
        Chain chain = Chains.baseMidTop(qemu, dir);
        FormatNode top = fx.open("top", "top.qcow2");
        CopyOnReadFilter filter = insertFilter(top, null);
        filter.prefetch(0, top.length(), ByteBuffer.allocateDirect(1 << 20));
        long onceBefore = fx.images.counters(chain.top()).readsOnce();

        assertThat(GraphFixture.readAll(filter)).isEqualTo(chain.expected());
        assertThat(fx.images.counters(chain.top()).readsOnce()).isEqualTo(onceBefore);
    }

    /**
     * Several threads write, write zeroes and read through the filter, each in its own 4 KiB
     * stripes (which share top clusters of 64 KiB with other threads' stripes), while another
     * thread forces copies over the whole disk and checks stripes nobody writes. In the end the
     * content equals the model, and qemu-img check is clean.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void concurrentGuestsAndCopiesMatchAReferenceModel(long seed) throws Exception {
        int size = 2 * 1024 * 1024;
        Random setup = new Random(seed);
        Chains.Builder b =
                Chains.in(qemu, dir).base("base.qcow2", "qcow2", size).clusterSize(4096);
        for (int i = 0; i < 12; i++) {
            long len = 4096L * (1 + setup.nextInt(8));
            b.write(setup.nextInt((int) ((size - len) / 4096)) * 4096L, len, 0x10 + i);
        }
        b.overlay("mid.qcow2").clusterSize(16384);
        for (int i = 0; i < 12; i++) {
            long len = 512L * (1 + setup.nextInt(40));
            b.write(setup.nextInt((int) ((size - len) / 1024)) * 1024L, len, 0x40 + i);
        }
        b.overlay("top.qcow2").clusterSize(65536).write(setup.nextInt(size / 65536) * 65536L, 65536, 0x70);
        Chain chain = b.build();
        byte[] model = chain.expected();

        FormatNode top = fx.open("top", "top.qcow2");
        CopyOnReadFilter filter = insertFilter(top, null);
        int writers = 4;
        int stripe = 4096;
        int ops = 300;
        CyclicBarrier start = new CyclicBarrier(writers + 1);
        ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int me = w;
                done.add(pool.submit(
                        () -> guest(filter, model, me, writers + 1, stripe, ops, new Random(seed * 31 + me), start)));
            }
            done.add(pool.submit(() ->
                    copier(filter, model, writers, writers + 1, stripe, ops, new Random(seed * 31 + writers), start)));
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(GraphFixture.readAll(filter)).isEqualTo(model);
        try (DrainedSection s = fx.graph.drain(filter)) {
            fx.graph.dropFilter(s, filter);
        }
        fx.close();
        assertCheckClean(chain.top());
        assertContent(chain.top(), model);
    }

    /** Stripe {@code s} belongs to thread {@code s % owners}; the model is only written in one's own stripes. */
    private static Void guest(
            BlockNode device, byte[] model, int me, int owners, int stripe, int ops, Random rnd, CyclicBarrier start)
            throws Exception {
        int stripes = model.length / stripe;
        start.await();
        for (int i = 0; i < ops; i++) {
            int s = rnd.nextInt(stripes / owners) * owners + me;
            int from = s * stripe + rnd.nextInt(stripe / 512) * 512;
            int len = Math.min(stripe - (from - s * stripe), 512 * (1 + rnd.nextInt(8)));
            switch (rnd.nextInt(3)) {
                case 0 -> {
                    byte pattern = (byte) (0x80 + me * 16 + (i % 16));
                    ByteBuffer data = ByteBuffer.allocate(len);
                    Arrays.fill(data.array(), pattern);
                    synchronizedFill(model, from, len, pattern);
                    device.write(from, data);
                }
                case 1 -> {
                    synchronizedFill(model, from, len, (byte) 0);
                    device.writeZeroes(from, len, rnd.nextBoolean());
                }
                default -> {
                    ByteBuffer got = ByteBuffer.allocate(stripe);
                    device.read((long) s * stripe, got);
                    byte[] want = synchronizedCopy(model, s * stripe, stripe);
                    if (!Arrays.equals(got.array(), want)) {
                        throw new AssertionError("thread " + me + " read its stripe " + s + " wrong at op " + i);
                    }
                }
            }
        }
        return null;
    }

    /** Forces copies over random ranges and checks the stripes nobody writes. */
    private static Void copier(
            CopyOnReadFilter filter,
            byte[] model,
            int me,
            int owners,
            int stripe,
            int ops,
            Random rnd,
            CyclicBarrier start)
            throws Exception {
        int stripes = model.length / stripe;
        start.await();
        for (int i = 0; i < ops; i++) {
            long from = rnd.nextInt(model.length / 512) * 512L;
            long len = Math.min(model.length - from, 512L * (1 + rnd.nextInt(1024)));
            filter.prefetch(from, len, ByteBuffer.allocateDirect(1 << 20));
            int s = rnd.nextInt(stripes / owners) * owners + me;
            ByteBuffer got = ByteBuffer.allocate(stripe);
            filter.read((long) s * stripe, got);
            if (!Arrays.equals(got.array(), synchronizedCopy(model, s * stripe, stripe))) {
                throw new AssertionError("untouched stripe " + s + " changed at op " + i);
            }
        }
        return null;
    }

    private static void synchronizedFill(byte[] model, int from, int len, byte value) {
        synchronized (model) {
            Arrays.fill(model, from, from + len, value);
        }
    }

    private static byte[] synchronizedCopy(byte[] model, int from, int len) {
        synchronized (model) {
            return Arrays.copyOfRange(model, from, from + len);
        }
    }
}
