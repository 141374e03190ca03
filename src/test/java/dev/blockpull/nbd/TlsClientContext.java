package dev.blockpull.nbd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;

/** The client side of TLS for {@link NbdTestClient}, from a qemu-style certificate directory. */
final class TlsClientContext {

    private TlsClientContext() {}

    /** Trusts {@code dir/ca-cert.pem}; presents {@code dir/client-cert.pem} when {@code withCertificate}. */
    static SSLContext of(Path dir, boolean withCertificate) throws Exception {
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        Path ca = dir.resolve("ca-cert.pem");
        anchors.setCertificateEntry(
                "ca", Pem.certificates(Files.readAllBytes(ca), ca.toString()).get(0));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(anchors);
        KeyManager @Nullable [] keys = null;
        if (withCertificate) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            Path cert = dir.resolve("client-cert.pem");
            Path key = dir.resolve("client-key.pem");
            ks.setKeyEntry(
                    "client",
                    Pem.privateKey(Files.readAllBytes(key), key.toString()),
                    new char[0],
                    Pem.certificates(Files.readAllBytes(cert), cert.toString()).toArray(X509Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
            keys = kmf.getKeyManagers();
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys, tmf.getTrustManagers(), null);
        return context;
    }
}
