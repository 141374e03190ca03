package dev.blockpull.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** Blocking reads and writes of whole buffers. */
final class Wire {

    private Wire() {}

    /** Fills {@code dst} to its limit. @throws EOFException when the peer closes first */
    static void readFully(NbdChannel ch, ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            if (ch.read(dst) < 0) {
                throw new EOFException("client closed the connection");
            }
        }
    }

    static void writeFully(SocketChannel ch, ByteBuffer... srcs) throws IOException {
        int last = srcs.length - 1;
        int first = 0;
        while (first <= last) {
            ch.write(srcs, first, last - first + 1);
            while (first <= last && !srcs[first].hasRemaining()) {
                first++;
            }
        }
    }
}
