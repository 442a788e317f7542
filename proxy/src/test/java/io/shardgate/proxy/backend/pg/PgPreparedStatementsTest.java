package io.shardgate.proxy.backend.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The proxy's named statements on one native connection, and the messages a request sends for them. */
class PgPreparedStatementsTest {
    private static final List<Integer> INT8 = List.of(20);

    private static PgServerError error(String state, String message) {
        Map<Character, String> fields = new LinkedHashMap<>();
        fields.put('S', "ERROR");
        fields.put('C', state);
        fields.put('M', message);
        return new PgServerError(fields);
    }

    @Test
    void aStatementIsParsedOnceAndReusedOnceTheShardParsedIt() {
        PgPreparedStatements cache = new PgPreparedStatements();
        PgPreparedStatements.Use first = cache.use("SELECT $1", INT8, "", 0);
        assertThat(first.parse()).isTrue();
        // the shard refused the Parse: nothing is kept, the next execution parses again under a new name
        cache.settle(first, false, error("42601", "syntax error"));
        PgPreparedStatements.Use second = cache.use("SELECT $1", INT8, "", 0);
        assertThat(second.parse()).isTrue();
        assertThat(second.name()).isNotEqualTo(first.name());
        cache.settle(second, true, null);
        PgPreparedStatements.Use third = cache.use("SELECT $1", INT8, "", 0);
        assertThat(third.parse()).isFalse();
        assertThat(third.name()).isEqualTo(second.name());
        // an execution error (division by zero, say) leaves the statement prepared
        cache.settle(third, false, error("22012", "division by zero"));
        assertThat(cache.use("SELECT $1", INT8, "", 0).parse()).isFalse();
        assertThat(cache.size()).isEqualTo(1);
    }

    @Test
    void otherParameterTypesOrSessionSettingsAreOtherStatements() {
        PgPreparedStatements cache = new PgPreparedStatements();
        cache.settle(cache.use("SELECT $1", INT8, "", 0), true, null);
        assertThat(cache.use("SELECT $1", List.of(0), "", 0).parse()).isTrue();
        assertThat(cache.use("SELECT $1", INT8, "SET TimeZone = 'UTC'", 0).parse()).isTrue();
        assertThat(cache.use("SELECT $1", INT8, "", 0).parse()).isFalse();
    }

    @Test
    void theLeastRecentlyUsedIsClosedWithTheNextRequestBeyondCapacity() {
        PgPreparedStatements cache = new PgPreparedStatements(2);
        List<String> names = new ArrayList<>();
        for (String sql : List.of("SELECT 1", "SELECT 2")) {
            PgPreparedStatements.Use use = cache.use(sql, List.of(), "", 0);
            cache.settle(use, true, null);
            names.add(use.name());
        }
        cache.use("SELECT 1", List.of(), "", 0); // SELECT 2 is now the least recently used
        PgPreparedStatements.Use third = cache.use("SELECT 3", List.of(), "", 0);
        assertThat(third.closed()).isEmpty();
        cache.settle(third, true, null);
        PgPreparedStatements.Use next = cache.use("SELECT 1", List.of(), "", 0);
        assertThat(next.parse()).isFalse();
        assertThat(next.closed()).containsExactly(names.get(1));
        assertThat(cache.use("SELECT 1", List.of(), "", 0).closed()).isEmpty();
        assertThat(cache.use("SELECT 2", List.of(), "", 0).parse()).isTrue();
    }

    @Test
    void aPlanTheShardRefusesAfterASchemaChangeStaysForOlderClientStatementsAndNewerOnesParseAfresh() {
        PgPreparedStatements cache = new PgPreparedStatements();
        String sql = "SELECT * FROM t WHERE id = $1";
        long clientBefore = System.nanoTime();
        PgPreparedStatements.Use use = cache.use(sql, INT8, "", clientBefore);
        cache.settle(use, true, null);
        PgPreparedStatements.Use cached = cache.use(sql, INT8, "", clientBefore);
        assertThat(cached.parse()).isFalse();
        cache.settle(cached, false, error("0A000", "cached plan must not change result type"));
        // the client prepared its statement before the entry was parsed, so before the change: it keeps failing
        PgPreparedStatements.Use older = cache.use(sql, INT8, "", clientBefore);
        assertThat(older.parse()).isFalse();
        assertThat(older.name()).isEqualTo(use.name());
        cache.settle(older, false, error("0A000", "cached plan must not change result type"));
        // one prepared since gets the statement parsed afresh, under a new name
        PgPreparedStatements.Use newer = cache.use(sql, INT8, "", System.nanoTime());
        assertThat(newer.parse()).isTrue();
        assertThat(newer.name()).isNotEqualTo(use.name());
        cache.settle(newer, true, null);
        assertThat(cache.use(sql, INT8, "", System.nanoTime()).name()).isEqualTo(newer.name());
        assertThat(cache.use(sql, INT8, "", clientBefore).name()).isEqualTo(use.name());
        // a second change: the newer entry is set aside in turn, the first one closed
        cache.settle(cache.use(sql, INT8, "", System.nanoTime()), false, error("0A000", "cached plan must not change result type"));
        PgPreparedStatements.Use third = cache.use(sql, INT8, "", System.nanoTime());
        assertThat(third.parse()).isTrue();
        assertThat(third.closed()).containsExactly(use.name());
        cache.clear();
        assertThat(cache.size()).isZero();
        PgPreparedStatements.Use afterDiscard = cache.use(sql, INT8, "", clientBefore);
        assertThat(afterDiscard.parse()).isTrue();
        assertThat(afterDiscard.closed()).isEmpty();
    }

    @Test
    void aRequestClosesParsesAndBindsTheConnectionsStatementWithTheClientsValues() {
        PgExtendedRequest request = new PgExtendedRequest("SELECT $1::int8", INT8, List.of((short) 1),
                java.util.Arrays.asList(new byte[] {0, 0, 0, 0, 0, 0, 0, 7}, null), List.of((short) 1), true, true, false, false, 0);
        ByteBuf out = request.encode(new PgPreparedStatements.Use(null, "sg_2", true, List.of("sg_1")));
        try {
            List<String> messages = new ArrayList<>();
            while (out.isReadable()) {
                char type = (char) out.readByte();
                int length = out.readInt();
                byte[] body = new byte[length - 4];
                out.readBytes(body);
                messages.add(type + ":" + new String(body, StandardCharsets.ISO_8859_1).replace('\0', '|'));
            }
            assertThat(messages).containsExactly(
                    "C:Ssg_1|",
                    "P:sg_2|SELECT $1::int8|\0\1\0\0\0\u0014".replace('\0', '|'),
                    ("B:|sg_2|\0\1\0\1\0\2\0\0\0\u0008\0\0\0\0\0\0\0\u0007\u00ff\u00ff\u00ff\u00ff\0\1\0\1").replace('\0', '|'),
                    "D:P|",
                    "E:|||||",
                    "S:");
        } finally {
            out.release();
        }
        ByteBuf cached = request.encode(new PgPreparedStatements.Use(null, "sg_2", false, List.of()));
        try {
            assertThat((char) cached.getByte(0)).isEqualTo('B');
        } finally {
            cached.release();
        }
    }
}
