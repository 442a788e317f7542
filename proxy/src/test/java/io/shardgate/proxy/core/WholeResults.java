package io.shardgate.proxy.core;

import io.shardgate.proxy.session.BackendNotice;
import io.shardgate.proxy.session.FrontendSession;
import io.shardgate.proxy.session.PreparedInfo;
import io.shardgate.proxy.session.SessionState;
import io.shardgate.proxy.session.SqlPreparedStatement;
import io.shardgate.proxy.session.StatementResult;
import java.util.List;

/**
 * A session as tests without a front end use it: every result set read whole as a front end would write it (a streamed
 * one is read to its end and closed, as the front ends do), so assertions see its rows.
 */
record WholeResults(FrontendSession session) implements FrontendSession {

    static FrontendSession of(FrontendSession session) {
        return new WholeResults(session);
    }

    @Override
    public void initDb(String schema) {
        session.initDb(schema);
    }

    @Override
    public List<BackendNotice> takeNotices() {
        return session.takeNotices();
    }

    @Override
    public StatementResult query(String sql) {
        return StatementResult.whole(session.query(sql));
    }

    @Override
    public StatementResult query(String sql, List<Object> parameters) {
        return StatementResult.whole(session.query(sql, parameters));
    }

    @Override
    public StatementResult query(byte[] sql) {
        return StatementResult.whole(session.query(sql));
    }

    @Override
    public PreparedInfo prepare(String sql) {
        return session.prepare(sql);
    }

    @Override
    public PreparedInfo prepare(byte[] sql) {
        return session.prepare(sql);
    }

    @Override
    public StatementResult execute(int statementId, List<Object> parameters) {
        return StatementResult.whole(session.execute(statementId, parameters));
    }

    @Override
    public void closeStatement(int statementId) {
        session.closeStatement(statementId);
    }

    @Override
    public SqlPreparedStatement prepareSql(String sql, List<String> declaredTypes) {
        return session.prepareSql(sql, declaredTypes);
    }

    @Override
    public StatementResult executeSql(String name, SqlPreparedStatement statement, List<String> arguments) {
        return StatementResult.whole(session.executeSql(name, statement, arguments));
    }

    @Override
    public void resetStatement(int statementId) {
        session.resetStatement(statementId);
    }

    @Override
    public SessionState state() {
        return session.state();
    }

    @Override
    public void cancel() {
        session.cancel();
    }

    @Override
    public String ownText(String text) {
        return session.ownText(text);
    }

    @Override
    public void close() {
        session.close();
    }
}
