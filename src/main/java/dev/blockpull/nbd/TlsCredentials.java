package dev.blockpull.nbd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's x509 credentials for NBD over TLS (QEMU's {@code tls-creds-x509} with
 * {@code endpoint=server}): certificate chain and private key, and optionally the CA whose
 * client certificates are required and verified. The files are read again whenever a client
 * starts TLS, and when their content changed (cert-manager rotating a Secret) the new ones are
 * used from that connection on; connections already open keep theirs. Files that do not load
 * (a rotation caught half-way) leave the previous credentials in use, with one warning.
 */
public final class TlsCredentials {

    private static final Logger log = LoggerFactory.getLogger(TlsCredentials.class);

    /**
     * @param certificate PEM certificate chain of the server, leaf first
     * @param privateKey  PEM private key of that certificate (PKCS#8, PKCS#1 or SEC1, unencrypted)
     * @param ca          PEM CA certificates; when set, clients must present a certificate they issued
     */
    public record PemFiles(
            Path certificate, Path privateKey, @Nullable Path ca) {}

    /** What was loaded from which bytes. */
    private record Loaded(List<byte[]> contents, SSLContext context) {}

    private final PemFiles files;
    private Loaded current;
    private @Nullable List<byte[]> lastFailure;

    /** Loads the files now. @throws TlsCredentialsException when they are missing or do not fit together */
    public TlsCredentials(PemFiles files) {
        this.files = files;
        List<byte[]> contents = read();
        this.current = new Loaded(contents, load(contents));
    }

    /**
     * The credentials the three settings name, or null when none is set (no TLS).
     *
     * @throws TlsCredentialsException when only some are set, or the files do not load
     */
    public static @Nullable TlsCredentials of(
            @Nullable Path certificate, @Nullable Path privateKey, @Nullable Path ca) {
        if (certificate == null && privateKey == null && ca == null) {
            return null;
        }
        if (certificate == null || privateKey == null) {
            throw new TlsCredentialsException("NBD over TLS needs both blockpull.nbd.tls.certificate and"
                    + " blockpull.nbd.tls.private-key" + (ca != null ? " (blockpull.nbd.tls.ca is set)" : ""));
        }
        return new TlsCredentials(new PemFiles(certificate, privateKey, ca));
    }

    /** Whether clients must present a certificate signed by the configured CA. */
    public boolean verifiesClients() {
        return files.ca() != null;
    }

    /** The credentials for a new connection: the files as they are now, or the last ones that loaded. */
    synchronized SSLContext context() {
        List<byte[]> contents;
        try {
            contents = read();
        } catch (TlsCredentialsException e) {
            warnOnce(List.of(), e);
            return current.context();
        }
        if (same(current.contents(), contents)) {
            return current.context();
        }
        try {
            current = new Loaded(contents, load(contents));
            lastFailure = null;
            log.info("NBD TLS credentials reloaded from {} (new connections use them)", files.certificate());
        } catch (TlsCredentialsException e) {
            warnOnce(contents, e);
        }
        return current.context();
    }

    /** Warns once per broken state of the files, not at every connection. */
    private void warnOnce(List<byte[]> contents, TlsCredentialsException e) {
        List<byte[]> failed = lastFailure;
        if (failed == null || !same(failed, contents)) {
            log.warn("NBD TLS files changed but do not load, still using the previous ones: {}", e.getMessage());
        }
        lastFailure = contents;
    }

    private static boolean same(List<byte[]> a, List<byte[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    private List<byte[]> read() {
        Path ca = files.ca();
        return ca == null
                ? List.of(bytes(files.certificate()), bytes(files.privateKey()))
                : List.of(bytes(files.certificate()), bytes(files.privateKey()), bytes(ca));
    }

    private static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TlsCredentialsException("Cannot read " + file + ": " + e, e);
        }
    }

    private SSLContext load(List<byte[]> contents) {
        String certSource = files.certificate().toString();
        List<X509Certificate> chain = Pem.certificates(contents.get(0), certSource);
        PrivateKey key = Pem.privateKey(contents.get(1), files.privateKey().toString());
        checkKeyMatches(key, chain.get(0));
        try {
            char[] password = new char[0];
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("server", key, password, chain.toArray(X509Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
            TrustManager[] trust = null;
            if (contents.size() > 2) {
                KeyStore anchors = KeyStore.getInstance("PKCS12");
                anchors.load(null, null);
                int n = 0;
                for (X509Certificate ca : Pem.certificates(contents.get(2), String.valueOf(files.ca()))) {
                    anchors.setCertificateEntry("ca-" + n++, ca);
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(anchors);
                trust = tmf.getTrustManagers();
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), trust, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new TlsCredentialsException("Cannot use " + certSource + " with " + files.privateKey() + ": " + e, e);
        }
    }

    /** A key of another certificate would only show as a failed handshake: say it now. */
    private void checkKeyMatches(PrivateKey key, X509Certificate leaf) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448, RSASSA-PSS needs parameters: skip it
        };
        if (algorithm.equals("RSASSA-PSS")) {
            return;
        }
        byte[] probe = "blockpull".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(leaf.getPublicKey());
            verify.update(probe);
            if (verify.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            // a key of another type than the certificate's: does not match either
        }
        throw new TlsCredentialsException(files.privateKey() + " is not the private key of the certificate in "
                + files.certificate() + " (" + leaf.getSubjectX500Principal() + ")");
    }
}
