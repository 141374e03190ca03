package dev.blockpull.nbd;

import static dev.blockpull.nbd.NbdProtocol.*;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/** A minimal NBD client speaking the wire format directly, for what real clients never send. */
final class NbdTestClient implements AutoCloseable {

    record OptionReply(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** A simple reply ({@code structured == false}) or one structured chunk. */
    record Reply(boolean structured, int flags, int type, long cookie, int error, byte[] payload) {
        boolean done() {
            return !structured || (flags & REPLY_FLAG_DONE) != 0;
        }
    }

    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;
    final int handshakeFlags;
    long exportSize;
    int transmissionFlags;

    private NbdTestClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(20_000);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream()));
        if (in.readLong() != NBDMAGIC || in.readLong() != IHAVEOPT) {
            throw new IOException("not an NBD newstyle server");
        }
        this.handshakeFlags = in.readUnsignedShort();
    }

    /** Over TLS on {@code plain}, whose greeting was read and whose STARTTLS was acknowledged. */
    private NbdTestClient(NbdTestClient plain, SSLSocket tls) throws IOException {
        this.socket = tls;
        this.in = new DataInputStream(tls.getInputStream());
        this.out = new DataOutputStream(new java.io.BufferedOutputStream(tls.getOutputStream()));
        this.handshakeFlags = plain.handshakeFlags;
    }

    /**
     * Connected, NBD_OPT_STARTTLS acknowledged and the TLS handshake done with {@code context}'s
     * client credentials; the next option goes over TLS.
     */
    static NbdTestClient startTls(int port, SSLContext context) throws IOException {
        NbdTestClient plain = raw(port);
        plain.clientFlags(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
        plain.expectAck(plain.option(OPT_STARTTLS, new byte[0]));
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain.socket, "127.0.0.1", port, true);
        tls.setUseClientMode(true);
        tls.startHandshake();
        return new NbdTestClient(plain, tls);
    }

    /** Connected, greeting read, nothing sent. */
    static NbdTestClient raw(int port) throws IOException {
        return new NbdTestClient(new Socket("127.0.0.1", port));
    }

    /** Negotiated into transmission with OPT_GO; optionally structured replies and meta contexts. */
    static NbdTestClient go(int port, String export, boolean structured, String... contexts) throws IOException {
        NbdTestClient c = raw(port);
        c.clientFlags(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES);
        if (structured) {
            c.expectAck(c.option(OPT_STRUCTURED_REPLY, new byte[0]));
        }
        if (contexts.length > 0) {
            c.expectAck(c.option(OPT_SET_META_CONTEXT, metaContextData(export, contexts)));
        }
        List<OptionReply> replies = c.option(OPT_GO, goData(export));
        c.expectAck(replies);
        for (OptionReply r : replies) {
            if (r.type() == REP_INFO && ByteBuffer.wrap(r.data()).getShort() == INFO_EXPORT) {
                ByteBuffer b = ByteBuffer.wrap(r.data());
                b.getShort();
                c.exportSize = b.getLong();
                c.transmissionFlags = Short.toUnsignedInt(b.getShort());
            }
        }
        return c;
    }

    void clientFlags(int flags) throws IOException {
        out.writeInt(flags);
        out.flush();
    }

    /** Sends an option and reads replies up to the final one (ACK or an error). */
    List<OptionReply> option(int option, byte[] data) throws IOException {
        sendOption(option, data);
        List<OptionReply> replies = new ArrayList<>();
        while (true) {
            OptionReply r = readOptionReply();
            replies.add(r);
            if (r.type() == REP_ACK || r.type() < 0) {
                return replies;
            }
        }
    }

    void sendOption(int option, byte[] data) throws IOException {
        out.writeLong(IHAVEOPT);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    OptionReply readOptionReply() throws IOException {
        long magic = in.readLong();
        if (magic != OPTION_REPLY_MAGIC) {
            throw new IOException("bad option reply magic " + Long.toHexString(magic));
        }
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    void expectAck(List<OptionReply> replies) throws IOException {
        OptionReply last = replies.get(replies.size() - 1);
        if (last.type() != REP_ACK) {
            throw new IOException(
                    "option " + last.option() + " refused: 0x" + Integer.toHexString(last.type()) + " " + last.text());
        }
    }

    static byte[] goData(String export) {
        byte[] n = export.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(6 + n.length + 2)
                .putInt(n.length)
                .put(n)
                .putShort((short) 1)
                .putShort((short) INFO_BLOCK_SIZE)
                .array();
    }

    static byte[] metaContextData(String export, String... queries) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        try {
            byte[] n = export.getBytes(StandardCharsets.UTF_8);
            d.writeInt(n.length);
            d.write(n);
            d.writeInt(queries.length);
            for (String q : queries) {
                byte[] qb = q.getBytes(StandardCharsets.UTF_8);
                d.writeInt(qb.length);
                d.write(qb);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return b.toByteArray();
    }

    // ------------------------------------------------------------------ transmission

    void send(int flags, int type, long cookie, long offset, long length, byte[] payload) throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt((int) length);
        out.write(payload);
        out.flush();
    }

    Reply readReply() throws IOException {
        int magic = in.readInt();
        if (magic == SIMPLE_REPLY_MAGIC) {
            int error = in.readInt();
            long cookie = in.readLong();
            return new Reply(false, 0, 0, cookie, error, new byte[0]);
        }
        if (magic != STRUCTURED_REPLY_MAGIC) {
            throw new IOException("bad reply magic " + Integer.toHexString(magic));
        }
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long cookie = in.readLong();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        int error = 0;
        if (type == CHUNK_ERROR || type == CHUNK_ERROR_OFFSET) {
            error = ByteBuffer.wrap(payload).getInt();
        }
        return new Reply(true, flags, type, cookie, error, payload);
    }

    /** One request without data back; the error of its (simple or structured) reply. */
    int command(int type, int flags, long offset, long length, byte[] payload) throws IOException {
        send(flags, type, 7, offset, length, payload);
        Reply r = readReply();
        int error = r.error();
        while (!r.done()) {
            r = readReply();
            error = error != 0 ? error : r.error();
        }
        return error;
    }

    /** A READ with a simple reply: the data, or an exception carrying the error. */
    byte[] readSimple(long offset, int length) throws IOException {
        send(0, CMD_READ, 9, offset, length, new byte[0]);
        Reply r = readReply();
        if (r.error() != 0) {
            throw new NbdError(r.error());
        }
        byte[] data = new byte[length];
        in.readFully(data);
        return data;
    }

    /** A READ on a connection with structured replies: data and hole chunks assembled. */
    byte[] readSimpleStructured(long offset, int length) throws IOException {
        send(0, CMD_READ, 11, offset, length, new byte[0]);
        byte[] data = new byte[length];
        Reply r;
        do {
            r = readReply();
            if (r.error() != 0) {
                throw new NbdError(r.error());
            }
            ByteBuffer p = ByteBuffer.wrap(r.payload());
            if (r.type() == CHUNK_OFFSET_DATA) {
                int at = (int) (p.getLong() - offset);
                p.get(data, at, p.remaining());
            }
        } while (!r.done());
        return data;
    }

    /** Reads until the server closes; true if it did within the socket timeout. */
    boolean closedByServer() throws IOException {
        try {
            InputStream s = socket.getInputStream();
            byte[] sink = new byte[65536];
            while (s.read(sink) >= 0) {
                // discard whatever the server still sends
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (EOFException | java.net.SocketException e) {
            return true;
        }
    }

    void disconnect() throws IOException {
        send(0, CMD_DISC, 0, 0, 0, new byte[0]);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    static final class NbdError extends IOException {
        final int errno;

        NbdError(int errno) {
            super("NBD error " + errno);
            this.errno = errno;
        }
    }
}
