package dev.blockpull.nbd;

/** The NBD server cannot start as configured; the message says which setting to change. */
public abstract class NbdConfigurationException extends RuntimeException {

    NbdConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }

    NbdConfigurationException(String message) {
        super(message);
    }
}
