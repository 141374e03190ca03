package dev.blockpull.nbd;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * X.509 certificates and unencrypted private keys from PEM text, with the JDK alone: PKCS#8
 * ({@code PRIVATE KEY}, what {@code openssl genpkey} and OpenSSL 3 write), PKCS#1
 * ({@code RSA PRIVATE KEY}, older openssl and certtool) and SEC1 ({@code EC PRIVATE KEY},
 * {@code openssl ecparam -genkey}). The last two are wrapped into PKCS#8, which is all the JDK's
 * key factories read.
 */
final class Pem {

    private static final Pattern BLOCK =
            Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    /** rsaEncryption, 1.2.840.113549.1.1.1, with its NULL parameters. */
    private static final byte[] RSA_ALGORITHM =
            der(0x30, der(0x06, bytes(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01)), bytes(0x05, 0x00));
    /** id-ecPublicKey, 1.2.840.10045.2.1. */
    private static final byte[] EC_PUBLIC_KEY = der(0x06, bytes(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01));

    private static final byte[] VERSION_0 = bytes(0x02, 0x01, 0x00);

    private Pem() {}

    /** One {@code -----BEGIN type-----} block, decoded. */
    record Block(String type, byte[] der) {}

    static List<Block> blocks(byte[] text, String source) {
        Matcher m = BLOCK.matcher(new String(text, StandardCharsets.US_ASCII));
        List<Block> blocks = new ArrayList<>();
        while (m.find()) {
            try {
                blocks.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
            } catch (IllegalArgumentException e) {
                throw new TlsCredentialsException(source + ": the " + m.group(1) + " block is not valid base64");
            }
        }
        return blocks;
    }

    /** Every CERTIFICATE block, in file order (a chain: leaf first). */
    static List<X509Certificate> certificates(byte[] text, String source) {
        List<X509Certificate> certificates = new ArrayList<>();
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (Block b : blocks(text, source)) {
                if (b.type().equals("CERTIFICATE")) {
                    certificates.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(b.der())));
                }
            }
        } catch (CertificateException e) {
            throw new TlsCredentialsException(source + ": not a valid X.509 certificate: " + e.getMessage(), e);
        }
        if (certificates.isEmpty()) {
            throw new TlsCredentialsException(source + ": no -----BEGIN CERTIFICATE----- block");
        }
        return certificates;
    }

    /** The first private key block. */
    static PrivateKey privateKey(byte[] text, String source) {
        for (Block b : blocks(text, source)) {
            switch (b.type()) {
                case "PRIVATE KEY" -> {
                    return pkcs8(b.der(), source);
                }
                case "RSA PRIVATE KEY" -> {
                    return pkcs8(der(0x30, VERSION_0, RSA_ALGORITHM, der(0x04, b.der())), source);
                }
                case "EC PRIVATE KEY" -> {
                    byte[] algorithm = der(0x30, EC_PUBLIC_KEY, namedCurve(b.der(), source));
                    return pkcs8(der(0x30, VERSION_0, algorithm, der(0x04, b.der())), source);
                }
                case "ENCRYPTED PRIVATE KEY" ->
                    throw new TlsCredentialsException(source
                            + ": the private key is encrypted; write it unencrypted (openssl pkey -in KEY -out KEY.pem)"
                            + " and protect the file instead");
                default -> {
                    // certificates or parameters next to the key: not what we look for
                }
            }
        }
        throw new TlsCredentialsException(source + ": no -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY) block");
    }

    private static PrivateKey pkcs8(byte[] der, String source) {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (InvalidKeySpecException wrongAlgorithm) {
                // try the next one
            } catch (GeneralSecurityException e) {
                throw new TlsCredentialsException(source + ": " + e.getMessage(), e);
            }
        }
        throw new TlsCredentialsException(source + ": not an RSA, EC or EdDSA private key the JDK can read");
    }

    /**
     * The curve OID of a SEC1 ECPrivateKey: {@code SEQUENCE { version, OCTET STRING key,
     * [0] parameters, [1] public key }}; the parameters are a named curve's OID.
     */
    private static byte[] namedCurve(byte[] sec1, String source) {
        Der seq = new Der(sec1, 0);
        if (seq.tag == 0x30) {
            for (int at = seq.contentStart; at < seq.end; ) {
                Der element = new Der(sec1, at);
                if (element.tag == 0xa0) {
                    Der oid = new Der(sec1, element.contentStart);
                    if (oid.tag == 0x06) {
                        return java.util.Arrays.copyOfRange(sec1, element.contentStart, oid.end);
                    }
                }
                at = element.end;
            }
        }
        throw new TlsCredentialsException(source + ": the EC private key names no curve; write it as PKCS#8"
                + " (openssl pkcs8 -topk8 -nocrypt)");
    }

    /** The tag and extent of one DER element at {@code at}. */
    private static final class Der {
        final int tag;
        final int contentStart;
        final int end;

        Der(byte[] b, int at) {
            if (at + 2 > b.length) {
                throw new TlsCredentialsException("truncated DER");
            }
            tag = b[at] & 0xff;
            int first = b[at + 1] & 0xff;
            int length;
            int start = at + 2;
            if (first < 0x80) {
                length = first;
            } else {
                int n = first & 0x7f;
                if (n == 0 || n > 3 || start + n > b.length) {
                    throw new TlsCredentialsException("bad DER length");
                }
                length = 0;
                for (int i = 0; i < n; i++) {
                    length = (length << 8) | (b[start + i] & 0xff);
                }
                start += n;
            }
            if (start + length > b.length) {
                throw new TlsCredentialsException("truncated DER");
            }
            contentStart = start;
            end = start + length;
        }
    }

    /** A DER element: {@code tag}, length, and the parts concatenated. */
    private static byte[] der(int tag, byte[]... parts) {
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            content.writeBytes(p);
        }
        int n = content.size();
        ByteArrayOutputStream out = new ByteArrayOutputStream(n + 6);
        out.write(tag);
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else if (n < 0x10000) {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        } else {
            out.write(0x83);
            out.write(n >> 16);
            out.write(n >> 8);
            out.write(n);
        }
        out.writeBytes(content.toByteArray());
        return out.toByteArray();
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
