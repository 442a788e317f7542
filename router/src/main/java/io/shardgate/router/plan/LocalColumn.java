package io.shardgate.router.plan;

import java.util.Objects;

/**
 * One output column of a table-less SELECT, classified so a front end can answer what drivers send on
 * connect ({@code SELECT @@version_comment LIMIT 1}, {@code SELECT DATABASE()}) without a backend,
 * and must answer {@code CONNECTION_ID()} or {@code LAST_INSERT_ID()} from its own session.
 *
 * @param label column label the client sees (alias, else the expression text)
 * @param kind  what the value is
 * @param name  variable name without {@code @@}/scope (lower-case), function name (upper-case), or the SQL text
 */
public record LocalColumn(String label, Kind kind, String name) {
    public LocalColumn {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(name, "name");
    }

    public enum Kind {
        /** A literal ({@code 1}, {@code 'x'}). */
        CONSTANT,
        /** {@code @@name}, {@code @@session.name}, {@code @@global.name}. */
        SYSTEM_VARIABLE,
        /** A function whose value belongs to the client's session: DATABASE(), CONNECTION_ID(), LAST_INSERT_ID(), USER(), VERSION(), … */
        SESSION_FUNCTION,
        /** Anything else; a backend computes it. */
        EXPRESSION
    }
}
