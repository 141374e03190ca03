package dev.blockpull.nbd;

/** The NBD server's TLS files are missing, unreadable or do not fit together. */
public final class TlsCredentialsException extends NbdConfigurationException {

    TlsCredentialsException(String message) {
        super(message);
    }

    TlsCredentialsException(String message, Throwable cause) {
        super(message, cause);
    }
}
