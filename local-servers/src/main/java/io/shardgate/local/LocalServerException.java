package io.shardgate.local;

/**
 * Something went wrong starting, stopping or talking to a local server process, or running a helper command.
 * The message always says which binary, port and directory were involved and, where there is one, ends with
 * the tail of the relevant log or command output.
 */
public class LocalServerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LocalServerException(String message) {
        super(message);
    }

    public LocalServerException(String message, Throwable cause) {
        super(message, cause);
    }
}
