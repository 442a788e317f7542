package io.shardgate.proxy.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.PgTypedValue;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which EXECUTE arguments the proxy binds itself; every other one is evaluated by a shard (PgCorpusIT covers those). */
class PgSqlPreparedTest {

    @Test
    void stringLiteralsAreReadByTheTypesInputAsABoundTextIs() {
        assertThat(PgSqlPrepared.literal("'3'", "bigint", "int8")).contains(new PgTypedValue("int8", "3"));
        assertThat(PgSqlPrepared.literal(" 'it''s' ", "text", "text")).contains(new PgTypedValue("text", "it's"));
        assertThat(PgSqlPrepared.literal("''", "text", "text")).contains(new PgTypedValue("text", ""));
        assertThat(PgSqlPrepared.literal("' 42 '", "integer", "int4")).contains(new PgTypedValue("int4", "42"));
        assertThat(PgSqlPrepared.literal("'x'", "character varying", "varchar")).contains(new PgTypedValue("varchar", "x"));
    }

    @Test
    void otherStringsAreLeftToTheShardsInputFunction() {
        assertThat(PgSqlPrepared.literal("'abc'", "bigint", "int8")).isEmpty(); // the server's 22P02, not a routing refusal
        assertThat(PgSqlPrepared.literal("'0x1F'", "integer", "int4")).isEmpty();
        assertThat(PgSqlPrepared.literal("'99999'", "smallint", "int2")).isEmpty();
        assertThat(PgSqlPrepared.literal("'2024-02-29'", "date", "date")).isEmpty();
        assertThat(PgSqlPrepared.literal("'t'", "boolean", "bool")).isEmpty();
    }

    @Test
    void nullKeepsItsType() {
        assertThat(PgSqlPrepared.literal("null", "bigint", "int8")).contains(new PgTypedValue.Null("int8"));
    }

    @Test
    void integersOnlyForIntegerAndNumericParametersInRange() {
        assertThat(PgSqlPrepared.literal("-007", "bigint", "int8")).contains(new PgTypedValue("int8", "-7"));
        assertThat(PgSqlPrepared.literal("32767", "smallint", "int2")).contains(new PgTypedValue("int2", "32767"));
        assertThat(PgSqlPrepared.literal("-2147483648", "integer", "int4")).contains(new PgTypedValue("int4", "-2147483648"));
        assertThat(PgSqlPrepared.literal("99999999999999999999", "numeric", "numeric"))
                .contains(new PgTypedValue("numeric", "99999999999999999999"));
        // out of range: the server's cast error, not the input function's, so a shard evaluates it
        assertThat(PgSqlPrepared.literal("32768", "smallint", "int2")).isEmpty();
        assertThat(PgSqlPrepared.literal("9223372036854775808", "bigint", "int8")).isEmpty();
        // an integer for a boolean or text parameter goes through casts (42804 for boolean), not the input function
        assertThat(PgSqlPrepared.literal("1", "boolean", "bool")).isEmpty();
        assertThat(PgSqlPrepared.literal("1", "text", "text")).isEmpty();
    }

    @Test
    void everythingElseIsEvaluatedByAShard() {
        assertThat(PgSqlPrepared.literal("3.7", "bigint", "int8")).isEmpty(); // rounded by the server's cast
        assertThat(PgSqlPrepared.literal("1 + 2", "bigint", "int8")).isEmpty();
        assertThat(PgSqlPrepared.literal("'3'::bigint", "bigint", "int8")).isEmpty();
        assertThat(PgSqlPrepared.literal("E'a\\tb'", "text", "text")).isEmpty();
        assertThat(PgSqlPrepared.literal("'a\\b'", "text", "text")).isEmpty(); // depends on standard_conforming_strings
        assertThat(PgSqlPrepared.literal("'a' 'b'", "text", "text")).isEmpty();
        assertThat(PgSqlPrepared.literal("now()", "timestamp without time zone", "timestamp")).isEmpty();
    }

    @Test
    void wrongNumberOfArgumentsIsTheServersErrorWithItsDetail() {
        ProxyException e = PgSqlPrepared.wrongNumber("s", 1, 2);
        assertThat(e.error().sqlState()).isEqualTo("42601");
        assertThat(e.getMessage()).isEqualTo("wrong number of parameters for prepared statement \"s\"");
        assertThat(Optional.ofNullable(e.getCause()).map(c -> ((org.postgresql.util.PSQLException) c).getServerErrorMessage().getDetail()))
                .contains("Expected 1 parameters but got 2.");
    }
}
