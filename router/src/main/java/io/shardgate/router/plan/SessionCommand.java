package io.shardgate.router.plan;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A statement about the session rather than data. The proxy applies it to its session state and,
 * for settings, replays it on every backend connection the session uses.
 */
public sealed interface SessionCommand {

    /** {@code BEGIN}, {@code START TRANSACTION [READ ONLY | …]}; characteristics as written, upper-case, may be empty. */
    record Begin(String characteristics) implements SessionCommand {
        public Begin {
            Objects.requireNonNull(characteristics, "characteristics");
        }
    }

    record Commit() implements SessionCommand {}

    record Rollback() implements SessionCommand {}

    record Savepoint(String name) implements SessionCommand {
        public Savepoint {
            Objects.requireNonNull(name, "name");
        }
    }

    record RollbackToSavepoint(String name) implements SessionCommand {
        public RollbackToSavepoint {
            Objects.requireNonNull(name, "name");
        }
    }

    record ReleaseSavepoint(String name) implements SessionCommand {
        public ReleaseSavepoint {
            Objects.requireNonNull(name, "name");
        }
    }

    /** {@code SET autocommit = 0|1|ON|OFF} (alone). */
    record SetAutocommit(boolean enabled) implements SessionCommand {}

    /** {@code SET NAMES charset [COLLATE collation]}; names lower-case. */
    record SetNames(String charset, Optional<String> collation) implements SessionCommand {
        public SetNames {
            Objects.requireNonNull(charset, "charset");
            Objects.requireNonNull(collation, "collation");
        }
    }

    /** {@code SET [SESSION] TRANSACTION …}: applies to the next or all transactions of the session. */
    record SetTransaction(String characteristics) implements SessionCommand {
        public SetTransaction {
            Objects.requireNonNull(characteristics, "characteristics");
        }
    }

    /** {@code SET a = 1, @@session.b = 'x', @u = 2}: session or user variables, values as SQL text. */
    record SetVariables(List<Assignment> assignments) implements SessionCommand {
        public SetVariables {
            assignments = List.copyOf(assignments);
        }
    }

    /** {@code USE db}; name unquoted. */
    record Use(String schema) implements SessionCommand {
        public Use {
            Objects.requireNonNull(schema, "schema");
        }
    }

    /** {@code SHOW WARNINGS | ERRORS}: answered by the backend connection the session used last. */
    record ShowDiagnostics(String sql) implements SessionCommand {
        public ShowDiagnostics {
            Objects.requireNonNull(sql, "sql");
        }
    }

    /**
     * PostgreSQL {@code RESET name} (name lower-case, as the SET that set it is remembered) or {@code RESET ALL}
     * ({@code name} empty): the setting goes back to the server's default.
     */
    record Reset(Optional<String> name) implements SessionCommand {
        public Reset {
            Objects.requireNonNull(name, "name");
        }
    }

    /** PostgreSQL {@code DISCARD ALL | PLANS | SEQUENCES | TEMP}: drops that session state. */
    record Discard(DiscardWhat what) implements SessionCommand {
        public Discard {
            Objects.requireNonNull(what, "what");
        }
    }

    /** What a {@link Discard} drops. */
    enum DiscardWhat {
        ALL, PLANS, SEQUENCES, TEMP
    }

    /** One {@code name = value} of a SET. */
    record Assignment(Scope scope, String name, String value) {
        public Assignment {
            Objects.requireNonNull(scope, "scope");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }
    }

    /** Where a SET variable lives. GLOBAL settings are rejected: they would change one backend only. */
    enum Scope {
        /** A system variable of the session ({@code SET x}, {@code SET SESSION x}, {@code @@x}, {@code @@session.x}, PostgreSQL {@code SET LOCAL}). */
        SESSION,
        /** A MySQL user variable {@code @x}. */
        USER
    }
}
