package io.shardgate.migrator;

import java.sql.SQLException;

/** One-line descriptions of failures, with SQLSTATE and vendor code for SQL errors. */
final class Causes {
    private Causes() {}

    static String describe(Throwable t) {
        Throwable root = t;
        StringBuilder text = new StringBuilder();
        while (root != null) {
            if (!text.isEmpty()) {
                text.append(" <- ");
            }
            text.append(root.getClass().getSimpleName()).append(": ").append(root.getMessage());
            if (root instanceof SQLException sql) {
                text.append(" (SQLSTATE ").append(sql.getSQLState()).append(", error ").append(sql.getErrorCode()).append(')');
            }
            if (root.getCause() == root) {
                break;
            }
            root = root.getCause();
        }
        return text.toString();
    }
}
