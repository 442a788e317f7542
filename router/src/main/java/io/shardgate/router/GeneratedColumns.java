package io.shardgate.router;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import net.sf.jsqlparser.statement.create.table.ColumnDefinition;
import net.sf.jsqlparser.statement.create.table.CreateTable;

/**
 * The column a CREATE TABLE lets the server generate: MySQL {@code AUTO_INCREMENT}, PostgreSQL {@code serial},
 * {@code bigserial}, {@code smallserial} and {@code GENERATED … AS IDENTITY}. For a sharded table the proxy fills
 * such a column from the table's cluster sequence instead (the shards' own counters would repeat ids).
 */
final class GeneratedColumns {
    private static final List<String> SERIAL_TYPES = List.of("serial", "bigserial", "smallserial", "serial2", "serial4", "serial8");

    /** A generated column of a table. */
    record Found(String column, boolean always) {}

    private GeneratedColumns() {}

    static Optional<Found> of(CreateTable create) {
        if (create.getColumnDefinitions() == null) {
            return Optional.empty();
        }
        for (ColumnDefinition d : create.getColumnDefinitions()) {
            String type = d.getColDataType().getDataType().toLowerCase(Locale.ROOT);
            List<String> specs = d.getColumnSpecs() == null ? List.of()
                    : d.getColumnSpecs().stream().map(s -> s.toUpperCase(Locale.ROOT)).toList();
            boolean identity = specs.contains("IDENTITY") && specs.contains("GENERATED");
            if (SERIAL_TYPES.contains(type) || specs.contains("AUTO_INCREMENT") || identity) {
                return Optional.of(new Found(SqlText.unquote(d.getColumnName()).toLowerCase(Locale.ROOT),
                        identity && specs.contains("ALWAYS")));
            }
        }
        return Optional.empty();
    }
}
