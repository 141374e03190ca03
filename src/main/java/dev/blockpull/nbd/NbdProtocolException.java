package dev.blockpull.nbd;

/** The client broke the protocol: it is disconnected, nothing else is affected. */
final class NbdProtocolException extends Exception {

    NbdProtocolException(String message) {
        super(message);
    }
}
