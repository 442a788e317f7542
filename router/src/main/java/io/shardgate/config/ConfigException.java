package io.shardgate.config;

/**
 * A configuration value is missing or invalid. The message starts with the key's path
 * ({@code tables[2].key-type}) and says what is allowed, so a user can fix the file from it alone.
 */
public final class ConfigException extends RuntimeException {
    private final String key;

    public ConfigException(String key, String message) {
        super(key.isEmpty() ? message : key + ": " + message);
        this.key = key;
    }

    public ConfigException(String key, String message, Throwable cause) {
        super(key.isEmpty() ? message : key + ": " + message, cause);
        this.key = key;
    }

    /** Path of the offending key, empty for the document as a whole. */
    public String key() {
        return key;
    }
}
