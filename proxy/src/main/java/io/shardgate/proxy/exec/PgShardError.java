package io.shardgate.proxy.exec;

import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import org.postgresql.core.NativeQuery;
import org.postgresql.core.Parser;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * A PostgreSQL shard's error together with the statement text the shard saw, so that the error's POSITION (a character
 * index into that text) can be mapped onto the client's text, or dropped where the proxy rewrote the statement (see
 * {@link ErrorPosition}). It is the shard's {@link PSQLException} in all else: same SQLSTATE, message and fields.
 */
public final class PgShardError extends PSQLException {
    private final transient String statementText;

    private PgShardError(PSQLException e, String statementText) {
        super(e.getServerErrorMessage());
        initCause(e);
        setStackTrace(e.getStackTrace());
        this.statementText = statementText;
    }

    /** The text the shard parsed: what pgJDBC sent for {@code sql} ({@code ?} become {@code $n} when it has parameters). */
    public String statementText() {
        return statementText;
    }

    /**
     * {@code e} with the text pgJDBC sent for {@code sql}, when {@code e} is a server's error and {@code sql} is one
     * statement; else {@code e} itself.
     */
    static SQLException of(SQLException e, String sql, boolean withParameters) {
        if (!(e instanceof PSQLException p) || e instanceof PgShardError || p.getServerErrorMessage() == null) {
            return e;
        }
        String sent = nativeSql(sql, withParameters);
        return sent == null ? e : new PgShardError(p, sent);
    }

    /** The statement pgJDBC sends for {@code sql} (standard-conforming strings, as every shard runs), null for several. */
    static String nativeSql(String sql, boolean withParameters) {
        Objects.requireNonNull(sql, "sql");
        try {
            List<NativeQuery> queries = Parser.parseJdbcSql(sql, true, withParameters, true, false, false);
            return queries.size() == 1 ? queries.getFirst().nativeSql : null;
        } catch (SQLException unparsable) {
            return null;
        }
    }

    /** The server's fields, as pgJDBC read them. */
    public ServerErrorMessage fields() {
        return getServerErrorMessage();
    }
}
