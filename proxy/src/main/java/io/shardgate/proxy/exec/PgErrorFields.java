package io.shardgate.proxy.exec;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * The fields of a PostgreSQL shard's ErrorResponse besides severity, SQLSTATE and message, as the client gets them: all
 * unchanged (DETAIL, HINT, WHERE, the schema, table, column, data type and constraint names, FILE, LINE, ROUTINE, the
 * internal query and its position), except POSITION.
 *
 * <p>POSITION is a character index (from 1) into the statement text the shard parsed, which is not always the client's:
 * the proxy renames SQL-prepared statements ({@code PREPARE _sg… AS …}), rewrites scatter reads (AVG into SUM and
 * COUNT, LIMIT pushed down), splits multi-row INSERTs, and pgJDBC turns {@code ?} into {@code $n}. A position is
 * kept when the character it points at lies in a part of the text the proxy left alone: the common prefix of the
 * shard's and the client's text, or their common suffix (shifted by the difference in length); it is shifted by the
 * statement's place in a multi-statement query message. Anywhere else it would point at the wrong character, so it is
 * dropped (psql then prints no LINE/caret, pgJDBC no "Position:"), never guessed.
 */
public final class PgErrorFields {
    private PgErrorFields() {}

    /**
     * The fields of {@code e}'s server error for a client whose statement text is {@code clientText}, starting
     * {@code offset} characters into its query message; {@code clientText} null: no position.
     */
    public static Map<Character, String> of(PSQLException e, String clientText, int offset) {
        ServerErrorMessage m = e.getServerErrorMessage();
        Map<Character, String> fields = new HashMap<>();
        if (m == null) {
            return fields;
        }
        put(fields, 'D', m.getDetail());
        put(fields, 'H', m.getHint());
        put(fields, 'q', m.getInternalQuery());
        if (m.getInternalPosition() > 0) {
            fields.put('p', Integer.toString(m.getInternalPosition()));
        }
        put(fields, 'W', m.getWhere());
        put(fields, 's', m.getSchema());
        put(fields, 't', m.getTable());
        put(fields, 'c', m.getColumn());
        put(fields, 'd', m.getDatatype());
        put(fields, 'n', m.getConstraint());
        put(fields, 'F', m.getFile());
        if (m.getLine() > 0) {
            fields.put('L', Integer.toString(m.getLine()));
        }
        put(fields, 'R', m.getRoutine());
        if (m.getPosition() > 0 && clientText != null && e instanceof PgShardError shard) {
            map(shard.statementText(), m.getPosition(), clientText)
                    .ifPresent(p -> fields.put('P', Integer.toString(p + offset)));
        }
        return fields;
    }

    private static void put(Map<Character, String> fields, char code, String value) {
        if (value != null) {
            fields.put(code, value);
        }
    }

    /**
     * {@code position} (from 1, in characters) of {@code shardText} as a position in {@code clientText}, when the
     * character it points at (or the end of the text, one past the last character) lies in their common prefix or
     * suffix; else empty.
     */
    static OptionalInt map(String shardText, int position, String clientText) {
        // leading white space is no part of the statement (pgJDBC sends " SELECT 2" for the second of "SELECT 1; SELECT 2")
        int shardLead = leadingWhiteSpace(shardText);
        int clientLead = leadingWhiteSpace(clientText);
        if (position <= shardLead) {
            return OptionalInt.empty();
        }
        OptionalInt mapped = mapStripped(shardText.substring(shardText.offsetByCodePoints(0, shardLead)), position - shardLead,
                clientText.substring(clientText.offsetByCodePoints(0, clientLead)));
        return mapped.isPresent() ? OptionalInt.of(mapped.getAsInt() + clientLead) : mapped;
    }

    private static int leadingWhiteSpace(String text) {
        return (int) text.codePoints().takeWhile(Character::isWhitespace).count();
    }

    private static OptionalInt mapStripped(String shardText, int position, String clientText) {
        int[] shard = shardText.codePoints().toArray();
        int[] client = clientText.codePoints().toArray();
        if (position < 1 || position > shard.length + 1) {
            return OptionalInt.empty();
        }
        int prefix = 0;
        while (prefix < shard.length && prefix < client.length && shard[prefix] == client[prefix]) {
            prefix++;
        }
        if (prefix == shard.length && prefix == client.length) {
            return OptionalInt.of(position);                      // the same text
        }
        if (position <= prefix) {
            return OptionalInt.of(position);
        }
        int suffix = 0;
        while (suffix < shard.length - prefix && suffix < client.length - prefix
                && shard[shard.length - 1 - suffix] == client[client.length - 1 - suffix]) {
            suffix++;
        }
        if (position > shard.length - suffix && (suffix > 0 || position <= shard.length)) {
            return OptionalInt.of(position + client.length - shard.length);
        }
        return OptionalInt.empty();
    }
}
