package dev.blockpull.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** How a read's data is cut into the data and hole chunks of a structured reply. */
class DataRunTests {

    private static final int GRANULE = 4096;

    @Test
    void dataWithoutZeroGranulesIsOneDataRun() {
        ByteBuffer buf = filled(4 * GRANULE, (byte) 1);

        assertThat(DataRun.split(buf, GRANULE)).containsExactly(new DataRun(0, 4 * GRANULE, false));
    }

    @Test
    void wholeZeroGranulesBetweenDataBecomeOneHole() {
        ByteBuffer buf = filled(5 * GRANULE, (byte) 1);
        zero(buf, GRANULE, 3 * GRANULE);

        assertThat(DataRun.split(buf, GRANULE))
                .containsExactly(
                        new DataRun(0, GRANULE, false),
                        new DataRun(GRANULE, 4 * GRANULE, true),
                        new DataRun(4 * GRANULE, 5 * GRANULE, false));
    }

    @Test
    void zerosShorterThanAGranuleStayData() {
        ByteBuffer buf = filled(2 * GRANULE + 100, (byte) 1);
        zero(buf, GRANULE, GRANULE - 1);
        zero(buf, 2 * GRANULE, 100);

        assertThat(DataRun.split(buf, GRANULE)).containsExactly(new DataRun(0, 2 * GRANULE + 100, false));
    }

    @Test
    void allZerosAreOneHole() {
        ByteBuffer buf = ByteBuffer.allocate(3 * GRANULE);

        assertThat(DataRun.split(buf, GRANULE)).containsExactly(new DataRun(0, 3 * GRANULE, true));
    }

    private static ByteBuffer filled(int length, byte value) {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            buf.put(value);
        }
        return buf.flip();
    }

    private static void zero(ByteBuffer buf, int at, int length) {
        for (int i = at; i < at + length; i++) {
            buf.put(i, (byte) 0);
        }
    }
}
