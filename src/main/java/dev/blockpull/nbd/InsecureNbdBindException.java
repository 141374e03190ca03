package dev.blockpull.nbd;

/** The NBD server was asked to listen beyond loopback without TLS and without blockpull.nbd.allow-insecure. */
public final class InsecureNbdBindException extends NbdConfigurationException {

    InsecureNbdBindException(String message) {
        super(message);
    }
}
