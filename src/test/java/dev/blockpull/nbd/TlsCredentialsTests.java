package dev.blockpull.nbd;

import static dev.blockpull.testsupport.TestPki.openssl;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.blockpull.testsupport.TestPki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.interfaces.ECPrivateKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading the server's PEM files: the key formats openssl and certtool write, and clear errors for the rest. */
class TlsCredentialsTests {

    @TempDir
    static Path dir;

    static TestPki.ServerFiles server;

    @BeforeAll
    static void certificates() {
        TestPki pki = TestPki.create(dir.resolve("ca"), "Blockpull test CA");
        server = pki.server(dir.resolve("server"), "localhost");
    }

    @Test
    void aPkcs8RsaKeyLoads() {
        assertThat(new TlsCredentials(files(server.privateKey())).verifiesClients())
                .isFalse();
    }

    @Test
    void aPkcs1RsaKeyLoads() {
        Path key = dir.resolve("pkcs1.pem");
        openssl("pkey", "-in", server.privateKey().toString(), "-traditional", "-out", key.toString());

        assertThat(Pem.blocks(read(key), "key").get(0).type()).isEqualTo("RSA PRIVATE KEY");
        assertThat(new TlsCredentials(files(key))).isNotNull();
    }

    @Test
    void sec1AndPkcs8EcKeysLoad() {
        Path sec1 = dir.resolve("ec-sec1.pem");
        Path pkcs8 = dir.resolve("ec-pkcs8.pem");
        Path cert = dir.resolve("ec-cert.pem");
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", sec1.toString());
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", sec1.toString(), "-out", pkcs8.toString());
        openssl(
                "req",
                "-x509",
                "-key",
                sec1.toString(),
                "-subj",
                "/CN=localhost",
                "-days",
                "1",
                "-out",
                cert.toString());

        assertThat(Pem.blocks(read(sec1), "key").get(0).type()).isEqualTo("EC PRIVATE KEY");
        assertThat(Pem.privateKey(read(sec1), "sec1").getAlgorithm()).isEqualTo("EC");
        assertThat(((ECPrivateKey) Pem.privateKey(read(sec1), "sec1")).getS())
                .isEqualTo(((ECPrivateKey) Pem.privateKey(read(pkcs8), "pkcs8")).getS());
        assertThat(new TlsCredentials(new TlsCredentials.PemFiles(cert, sec1, null)))
                .isNotNull();
    }

    @Test
    void aKeyOfAnotherCertificateIsRefusedNamingBothFiles() {
        Path other = dir.resolve("other-key.pem");
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other.toString());

        assertThatThrownBy(() -> new TlsCredentials(files(other)))
                .isInstanceOf(TlsCredentialsException.class)
                .hasMessageContaining("other-key.pem is not the private key of the certificate in")
                .hasMessageContaining("server-cert.pem");
    }

    @Test
    void anEncryptedKeyIsRefusedWithWhatToDo() {
        Path encrypted = dir.resolve("encrypted.pem");
        openssl(
                "pkcs8",
                "-topk8",
                "-in",
                server.privateKey().toString(),
                "-passout",
                "pass:secret",
                "-out",
                encrypted.toString());

        assertThatThrownBy(() -> new TlsCredentials(files(encrypted)))
                .isInstanceOf(TlsCredentialsException.class)
                .hasMessageContaining("encrypted");
    }

    @Test
    void aMissingFileIsNamed() {
        Path missing = dir.resolve("missing.pem");

        assertThatThrownBy(() -> new TlsCredentials(files(missing)))
                .isInstanceOf(TlsCredentialsException.class)
                .hasMessageContaining("Cannot read " + missing);
    }

    @Test
    void aCertificateFileWithoutACertificateIsRefused() {
        assertThatThrownBy(() ->
                        new TlsCredentials(new TlsCredentials.PemFiles(server.privateKey(), server.privateKey(), null)))
                .isInstanceOf(TlsCredentialsException.class)
                .hasMessageContaining("no -----BEGIN CERTIFICATE----- block");
    }

    @Test
    void noFilesMeansNoTlsAndSomeFilesAreAnError() {
        assertThat(TlsCredentials.of(null, null, null)).isNull();
        assertThatThrownBy(() -> TlsCredentials.of(server.certificate(), null, null))
                .isInstanceOf(TlsCredentialsException.class)
                .hasMessageContaining("blockpull.nbd.tls.certificate and blockpull.nbd.tls.private-key");
        assertThatThrownBy(() -> TlsCredentials.of(null, null, server.caCertificate()))
                .isInstanceOf(TlsCredentialsException.class)
                .hasMessageContaining("blockpull.nbd.tls.ca is set");
        assertThat(TlsCredentials.of(server.certificate(), server.privateKey(), server.caCertificate())
                        .verifiesClients())
                .isTrue();
    }

    private static TlsCredentials.PemFiles files(Path key) {
        return new TlsCredentials.PemFiles(server.certificate(), key, null);
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
