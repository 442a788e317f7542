package io.shardgate.slot;

/** A value cannot be placed on a slot for the key's declared type; the message says why. */
public final class KeyNormalizationException extends RuntimeException {
    public KeyNormalizationException(String message) {
        super(message);
    }
}
