package io.shardgate.router;

/**
 * Where the router takes the ids of a cluster sequence from while it routes an INSERT into a table with one
 * ({@link io.shardgate.cluster.TableDefinition#sequence()}): the proxy's blocks of the sequence in the cluster store.
 * The router fills the column before it places the rows, so a row whose shard key is that column goes to its
 * generated id's slot. Routing stays a function of its inputs: given the same ids, the same plan.
 */
public interface IdSource {

    /**
     * The first of {@code count} consecutive new ids of {@code table}'s sequence. The plan binds them after the client's
     * parameters, in the order they were reserved: a statement with n client parameters that reserves k ids refers to
     * them as parameters n … n+k-1, and its caller passes the client's parameters followed by those ids.
     */
    long reserve(String table, int count);

    /** The statement gives {@code value} explicitly for {@code table}'s sequence column: later ids go past it. */
    void given(String table, long value);

    /**
     * Whether a 0 for the column asks for a new id (MySQL, unless the session's sql_mode has
     * NO_AUTO_VALUE_ON_ZERO). PostgreSQL stores 0 as given; the router asks only for MySQL clusters.
     */
    boolean zeroGenerates();

    /** For routing where no ids may be taken (describing a prepared statement): a statement that needs one is refused. */
    IdSource NONE = new IdSource() {
        @Override
        public long reserve(String table, int count) {
            throw new Refusal(io.shardgate.router.plan.RejectReason.UNSUPPORTED_STATEMENT, "no ids of the sequence of " + table
                    + " are taken while describing a statement");
        }

        @Override
        public void given(String table, long value) { }

        @Override
        public boolean zeroGenerates() {
            return true;
        }
    };
}
