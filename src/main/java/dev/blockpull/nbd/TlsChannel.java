package dev.blockpull.nbd;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import javax.security.auth.x500.X500Principal;
import org.jspecify.annotations.Nullable;

/**
 * TLS over a client's socket after NBD_OPT_STARTTLS: an {@link SSLSocket} layered on the accepted
 * socket, server side, TLS 1.3 or 1.2. The JDK does the record layer, key updates and alerts;
 * this copies between NBD's buffers and the socket's streams (16 KiB at a time, one TLS record)
 * and gathers a reply's header and data into as few records as possible.
 */
final class TlsChannel implements NbdChannel {

    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /** The largest TLS record's plaintext. */
    private static final int RECORD = 16 * 1024;

    private final InputStream in;
    private final OutputStream out;
    private final byte[] readScratch = new byte[RECORD];
    private final byte[] writeScratch = new byte[RECORD];
    private final @Nullable X500Principal peer;

    private TlsChannel(SSLSocket socket) throws IOException {
        this.in = socket.getInputStream();
        this.out = new BufferedOutputStream(socket.getOutputStream(), RECORD);
        this.peer = peerOf(socket);
    }

    /**
     * Runs the server side of the TLS handshake on {@code socket}; with {@code requireClientCertificate}
     * a client without a certificate the context's trust managers accept fails it.
     */
    static TlsChannel accept(SocketChannel socket, SSLContext context, boolean requireClientCertificate)
            throws IOException {
        // no bytes were read ahead of the ClientHello: the handshake reads option by option
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(socket.socket(), null, true);
        tls.setUseClientMode(false);
        SSLParameters parameters = tls.getSSLParameters();
        parameters.setProtocols(PROTOCOLS);
        parameters.setNeedClientAuth(requireClientCertificate);
        tls.setSSLParameters(parameters);
        tls.startHandshake();
        return new TlsChannel(tls);
    }

    private static @Nullable X500Principal peerOf(SSLSocket socket) {
        try {
            Certificate[] chain = socket.getSession().getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? x.getSubjectX500Principal() : null;
        } catch (SSLPeerUnverifiedException none) {
            return null;
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (dst.hasArray()) {
            int n = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            if (n > 0) {
                dst.position(dst.position() + n);
            }
            return n;
        }
        int n = in.read(readScratch, 0, Math.min(readScratch.length, dst.remaining()));
        if (n > 0) {
            dst.put(readScratch, 0, n);
        }
        return n;
    }

    @Override
    public void write(ByteBuffer... srcs) throws IOException {
        for (ByteBuffer src : srcs) {
            if (src.hasArray()) {
                out.write(src.array(), src.arrayOffset() + src.position(), src.remaining());
                src.position(src.limit());
                continue;
            }
            while (src.hasRemaining()) {
                int n = Math.min(writeScratch.length, src.remaining());
                src.get(writeScratch, 0, n);
                out.write(writeScratch, 0, n);
            }
        }
        out.flush();
    }

    @Override
    public @Nullable X500Principal peer() {
        return peer;
    }
}
