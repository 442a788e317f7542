package io.shardgate.proxy.core;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.ClientCharset;
import io.shardgate.proxy.session.ClientSql;
import io.shardgate.router.SqlTemplate;
import io.shardgate.router.plan.ShardStatement;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.RandomAccess;

/**
 * The literal values of a MySQL text statement, as the router sees them (the parameters of its cached template), which
 * also know where each came from in the client's bytes. It travels through routing and execution as the plan's
 * parameter list; when a shard statement is sent, {@link #bytesFor} gives the client's own bytes if the shard SQL is
 * the statement as sent, and otherwise the shard SQL with every literal spelled as the client spelled it, in the
 * client's character set: a literal the router did not change is never decoded and re-encoded.
 */
final class SourceLiterals extends AbstractList<Object> implements RandomAccess {
    private final ClientSql sql;
    /** The statement's template, or null when it was analysed as it is (no replaceable literal). */
    private final SqlTemplate template;
    private final List<Object> values;
    /** Ids taken from a cluster sequence for this statement, bound after the literals ({@link #withIds}). */
    private final List<Long> ids;

    SourceLiterals(ClientSql sql, SqlTemplate template) {
        this(sql, template, template == null ? List.of() : asTheServerReadsThem(template, sql.charset()), List.of());
    }

    private SourceLiterals(ClientSql sql, SqlTemplate template, List<Object> values, List<Long> ids) {
        this.sql = sql;
        this.template = template;
        this.values = values;
        this.ids = ids;
    }

    /**
     * These literals followed by {@code ids} (taken from a cluster sequence for the statement, in order): what a plan
     * with generated ids binds, whose shard statements are then sent with every literal as the client spelled it and
     * the ids as decimal numbers ({@link #bytesFor(ShardStatement, List)}).
     */
    SourceLiterals withIds(List<Long> ids) {
        return new SourceLiterals(sql, template, values, List.copyOf(ids));
    }

    /**
     * The values as the server reads them: a string with a character set introducer ({@code _latin1'é'}) is its bytes
     * in the client's character set read in the introducer's, so a utf8mb4 client's {@code _latin1'é'} (bytes C3 A9) is
     * the key 'Ã©', as the shard stores and compares it. A set the proxy does not know is only read when the bytes are
     * ASCII (and one byte per character); otherwise the statement is refused before it runs.
     */
    private static List<Object> asTheServerReadsThem(SqlTemplate template, ClientCharset client) {
        List<Object> literals = template.literals();
        List<String> sources = template.sources();
        List<Object> out = null;
        for (int i = 0; i < sources.size() && i < literals.size(); i++) {
            String source = sources.get(i);
            if (source.isEmpty() || source.charAt(0) != '_' || !(literals.get(i) instanceof String value)) {
                continue;
            }
            String charset = source.substring(1, introducerEnd(source)).toLowerCase(Locale.ROOT);
            Object read = read(value, client, charset, source);
            if (!read.equals(value)) {
                out = out == null ? new ArrayList<>(literals) : out;
                out.set(i, read);
            }
        }
        return out == null ? literals : java.util.Collections.unmodifiableList(out);
    }

    private static int introducerEnd(String source) {
        int i = 1;
        while (i < source.length() && (Character.isLetterOrDigit(source.charAt(i)) || source.charAt(i) == '_')) {
            i++;
        }
        return i;
    }

    private static Object read(String value, ClientCharset client, String charset, String source) {
        if (charset.equals("binary")) {
            return value; // bytes compared as bytes: the client's own, which is what the proxy read
        }
        byte[] bytes = client.encode(value);
        var served = ClientCharset.byName(charset);
        if (served.isPresent()) {
            return served.get() == client ? value : served.get().decode(bytes);
        }
        boolean ascii = true;
        for (byte b : bytes) {
            ascii &= b >= 0;
        }
        if (ascii && !WIDE.contains(charset)) {
            return value;
        }
        throw new ProxyException(ErrorCode.UNSUPPORTED, "the string " + source + " is not supported by Shardgate: it cannot read"
                + " non-ASCII bytes in " + charset + " as the server does, and a shard key it holds would be routed wrong; use one"
                + " of " + ClientCharset.SUPPORTED + ", or a hex literal");
    }

    /** Character sets whose ASCII is not one byte per character. */
    private static final java.util.Set<String> WIDE = java.util.Set.of("ucs2", "utf16", "utf16le", "utf32");

    /** The bytes to send for {@code statement}, one of this statement's shard statements. */
    byte[] bytesFor(ShardStatement statement) {
        if (!ids.isEmpty()) {
            return bytesFor(statement, ids);
        }
        if (template == null) {
            return sql.bytesOf(statement.sql());
        }
        if (statement.sql().equals(template.template()) && inOrder(statement.parameters())) {
            return sql.bytes(); // the statement as sent: nothing to render
        }
        return sql.bytesOf(template.render(statement.sql(), statement.parameters()));
    }

    /**
     * The bytes to send for {@code statement}, routed with {@code ids} taken from a cluster sequence: its parameters are
     * this statement's literals (the client's spelling) and then the ids, written as decimal numbers.
     */
    byte[] bytesFor(ShardStatement statement, List<Long> ids) {
        if (ids.isEmpty()) {
            return bytesFor(statement);
        }
        if (!this.ids.isEmpty() && !this.ids.equals(ids)) {
            throw new IllegalStateException("ids " + ids + " for literals that were given ids " + this.ids);
        }
        List<String> sources = new ArrayList<>(size() + ids.size());
        List<Object> values = new ArrayList<>(size() + ids.size());
        if (template != null) {
            sources.addAll(template.sources());
            values.addAll(template.literals());
        }
        if (sources.size() != values.size()) {
            throw new IllegalStateException("a template without the spelling of its literals: " + template.template());
        }
        for (Long id : ids) {
            sources.add(Long.toString(id));
            values.add(id);
        }
        return sql.bytesOf(new SqlTemplate(statement.sql(), values, sources).render(statement.sql(), statement.parameters()));
    }

    private static boolean inOrder(List<Integer> parameters) {
        for (int i = 0; i < parameters.size(); i++) {
            if (parameters.get(i) != i) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Object get(int index) {
        return index < values.size() ? values.get(index) : ids.get(index - values.size());
    }

    @Override
    public int size() {
        return values.size() + ids.size();
    }
}
