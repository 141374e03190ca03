package dev.blockpull.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A certificate authority made at test time with the {@code openssl} CLI (no key is ever
 * checked in), issuing server and client certificates in the directory layout QEMU's
 * {@code tls-creds-x509} and libnbd's {@code tls-certificates=} read: {@code ca-cert.pem},
 * {@code server-cert.pem}/{@code server-key.pem}, {@code client-cert.pem}/{@code client-key.pem}.
 * Extensions follow QEMU's TLS documentation, which its clients check: a CA with
 * {@code basicConstraints CA:TRUE}, a server certificate for {@code 127.0.0.1} and
 * {@code localhost} with {@code serverAuth}, client certificates with {@code clientAuth}.
 */
public final class TestPki {

    private final Path dir;
    private final String name;
    private int serial;

    private TestPki(Path dir, String name) {
        this.dir = dir;
        this.name = name;
    }

    /** A new CA with the subject {@code CN=name} in {@code dir}; the test fails (or skips) without openssl. */
    public static TestPki create(Path dir, String name) {
        QemuTools.requireTool("openssl");
        TestPki pki = new TestPki(mkdirs(dir), name);
        openssl(
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=" + name,
                "-keyout",
                pki.caKey().toString(),
                "-out",
                pki.caCertificate().toString(),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign");
        return pki;
    }

    public Path caCertificate() {
        return dir.resolve("ca-cert.pem");
    }

    private Path caKey() {
        return dir.resolve("ca-key.pem");
    }

    /**
     * A server certificate and key for 127.0.0.1 and localhost, written into {@code out} as
     * {@code server-cert.pem} and {@code server-key.pem} (PKCS#8), with the CA certificate next to them.
     */
    public ServerFiles server(Path out, String commonName) {
        mkdirs(out);
        issue(
                out.resolve("server"),
                "/CN=" + commonName + "/O=Blockpull tests",
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                        + "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        copyCa(out);
        return new ServerFiles(
                out.resolve("server-cert.pem"), out.resolve("server-key.pem"), out.resolve("ca-cert.pem"));
    }

    /**
     * A client directory for qemu's {@code tls-creds-x509,dir=} and libnbd's {@code tls-certificates=}:
     * {@code client-cert.pem} with the subject {@code subject} (openssl's {@code /CN=a/O=b} form),
     * {@code client-key.pem}, and this CA's certificate to check the server with.
     */
    public Path client(Path out, String subject) {
        mkdirs(out);
        issue(
                out.resolve("client"),
                subject,
                "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n");
        copyCa(out);
        return out;
    }

    /** Paths of a server's files. */
    public record ServerFiles(Path certificate, Path privateKey, Path caCertificate) {}

    private void issue(Path prefix, String subject, String extensions) {
        Path key = Path.of(prefix + "-key.pem");
        Path csr = Path.of(prefix + ".csr");
        Path ext = Path.of(prefix + ".ext");
        try {
            Files.writeString(ext, extensions);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        openssl(
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                subject,
                "-keyout",
                key.toString(),
                "-out",
                csr.toString());
        openssl(
                "x509",
                "-req",
                "-in",
                csr.toString(),
                "-CA",
                caCertificate().toString(),
                "-CAkey",
                caKey().toString(),
                "-set_serial",
                String.valueOf(++serial),
                "-days",
                "2",
                "-extfile",
                ext.toString(),
                "-out",
                prefix + "-cert.pem");
    }

    private void copyCa(Path out) {
        if (out.equals(dir)) {
            return;
        }
        try {
            Files.copy(caCertificate(), out.resolve("ca-cert.pem"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs openssl with {@code args}; fails the test with openssl's output when it fails. */
    public static ProcessResult openssl(String... args) {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        ProcessResult r = QemuTools.run(command, Duration.ofSeconds(60));
        if (!r.succeeded()) {
            throw new AssertionError(r.describe());
        }
        return r;
    }

    @Override
    public String toString() {
        return "test CA " + name + " in " + dir;
    }

    private static Path mkdirs(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
