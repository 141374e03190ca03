package dev.blockpull.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A client without TLS: reads (busy-polled, see {@link BusyPoll}) and gathering writes straight on
 * the socket, no copies.
 */
record PlainChannel(SocketChannel socket, BusyPoll reads) implements NbdChannel {

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return reads.read(dst);
    }

    @Override
    public void write(ByteBuffer... srcs) throws IOException {
        Wire.writeFully(socket, srcs);
    }
}
