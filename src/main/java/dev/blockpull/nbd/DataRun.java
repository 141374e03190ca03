package dev.blockpull.nbd;

import dev.blockpull.io.Zeros;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A run of a read's data sent as one structured reply chunk: data, or a hole where the bytes are
 * all zero.
 *
 * @param start first byte of the run in the read buffer
 * @param end   one past its last byte
 */
record DataRun(int start, int end, boolean hole) {

    int length() {
        return end - start;
    }

    /**
     * Splits {@code buf} (its bytes from 0 to its limit) into alternating runs, a hole being
     * whole all-zero granules of {@code granule} bytes.
     */
    static List<DataRun> split(ByteBuffer buf, int granule) {
        int len = buf.remaining();
        List<DataRun> runs = new ArrayList<>();
        int start = 0;
        boolean hole = false;
        for (int pos = 0; pos < len; ) {
            int end = Math.min(len, pos + granule);
            boolean zero = end - pos == granule && Zeros.isZero(buf, pos, end);
            if (pos > start && zero != hole) {
                runs.add(new DataRun(start, pos, hole));
                start = pos;
            }
            hole = zero;
            pos = end;
        }
        if (len > start) {
            runs.add(new DataRun(start, len, hole));
        }
        return runs;
    }
}
