package dev.blockpull.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** A client without TLS: reads and gathering writes straight on the socket, no copies. */
record PlainChannel(SocketChannel socket) implements NbdChannel {

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return socket.read(dst);
    }

    @Override
    public void write(ByteBuffer... srcs) throws IOException {
        Wire.writeFully(socket, srcs);
    }
}
