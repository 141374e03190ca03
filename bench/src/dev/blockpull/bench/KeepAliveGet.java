package dev.blockpull.bench;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A bare HTTP/1.1 GET over one kept-alive connection: a request line out, a status line, headers
 * and a Content-Length or chunked body in. The load bench's status GETs go through it because
 * {@code java.net.http.HttpClient} spends about a millisecond of CPU per request here, as much as
 * the service under test, and the two share the machine. One per sender thread; not thread-safe.
 */
final class KeepAliveGet implements AutoCloseable {

    private static final int TIMEOUT_MILLIS = 10_000;

    private final String host;
    private final int port;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    KeepAliveGet(URI base) {
        this.host = base.getHost();
        this.port = base.getPort();
    }

    /** Sends GET path, reads and drops the body; returns the status code. Reconnects once on a stale connection. */
    int get(String path) throws IOException {
        byte[] request = ("GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        boolean fresh = socket == null;
        try {
            return exchange(request);
        } catch (IOException e) {
            close();
            if (fresh) {
                throw e;
            }
            return exchange(request); // the service closed an idle connection: once more on a new one
        }
    }

    private int exchange(byte[] request) throws IOException {
        if (socket == null) {
            connect();
        }
        out.write(request);
        out.flush();
        String status = line();
        if (!status.startsWith("HTTP/1.1 ") || status.length() < 12) {
            throw new IOException("Not an HTTP/1.1 status line: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        long length = -1;
        boolean chunked = false;
        boolean closes = false;
        for (String h = line(); !h.isEmpty(); h = line()) {
            String lower = h.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Long.parseLong(lower.substring(15).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            } else if (lower.startsWith("connection:") && lower.contains("close")) {
                closes = true;
            }
        }
        if (chunked) {
            for (long n = Long.parseLong(line().split(";")[0].trim(), 16);
                    n > 0;
                    n = Long.parseLong(line().split(";")[0].trim(), 16)) {
                skip(n);
                line();
            }
            while (!line().isEmpty()) {
                // trailers
            }
        } else if (length >= 0) {
            skip(length);
        } else {
            closes = true; // a body up to the end of the connection
            in.transferTo(OutputStream.nullOutputStream());
        }
        if (closes) {
            close();
        }
        return code;
    }

    private void connect() throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoTimeout(TIMEOUT_MILLIS);
        s.connect(new InetSocketAddress(host, port), TIMEOUT_MILLIS);
        socket = s;
        in = new BufferedInputStream(s.getInputStream(), 16 * 1024);
        out = s.getOutputStream();
    }

    private String line() throws IOException {
        StringBuilder b = new StringBuilder(64);
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("Connection closed mid-response");
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    private void skip(long n) throws IOException {
        long left = n;
        while (left > 0) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new EOFException("Connection closed mid-body");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
        socket = null;
        in = null;
        out = null;
    }
}
