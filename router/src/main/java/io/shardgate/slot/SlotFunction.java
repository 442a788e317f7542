package io.shardgate.slot;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The slot function, {@code crc32c-v1}. Stable forever: changing it would misplace every row.
 *
 * <pre>
 *   slot(K)       = CRC32C(utf8(K)) mod SLOTS                       (unsigned 32-bit CRC)
 *   slot(K, i, k) = (slot(K) + floor(i * SLOTS / k)) mod SLOTS      sub-key i of K split k ways, 0 &lt;= i &lt; k
 * </pre>
 *
 * Sub-key 0 is the home slot; the k sub-keys sit evenly around the slot ring, so that a split key
 * reaches as many shards as contiguous slot ranges allow (k = 8 over 4 even shards: all 4). An
 * earlier rule hashed {@code K || 0x00 || i}; CRC is linear, so the sub-key slots of every key
 * differed from each other by the same XOR pattern and k = 8 never reached more than 3 of 4 shards.
 *
 * where K is the canonical text from {@link ShardKeys#normalize}. CRC32C is the Castagnoli CRC
 * (RFC 3720, polynomial 0x1EDC6F41), computed by {@link java.util.zip.CRC32C}; it spreads short
 * keys evenly, is hardware-accelerated, and is easy to reproduce in any language, which matters
 * for tools that pre-split data outside the proxy. Known values: slot("42") with 16384 slots is
 * {@value #SLOT_OF_42_IN_16384}.
 */
public final class SlotFunction {
    public static final String NAME = "crc32c-v1";
    /** Pinned in a unit test; documents the function for other implementations. */
    public static final int SLOT_OF_42_IN_16384 = 15819;

    /** The slot function's CRC on a PostgreSQL shard (it has no built-in CRC32C): {@code shardgate_crc32c(bytea)}. */
    public static final String POSTGRES_FUNCTION = "shardgate_crc32c";

    /**
     * The statement that installs {@link #POSTGRES_FUNCTION} on a PostgreSQL shard: CRC32C (Castagnoli, reflected
     * polynomial 0x82F63B78) of the bytes, bit by bit in PL/pgSQL. Slow per byte, but it only runs on keys, in the
     * shadow filters of scatter reads while slots move. Idempotent.
     */
    public static final String POSTGRES_DEFINITION = """
            CREATE OR REPLACE FUNCTION shardgate_crc32c(data bytea) RETURNS bigint
            LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $crc$
            DECLARE
              crc bigint := 4294967295;
            BEGIN
              FOR i IN 0 .. length(data) - 1 LOOP
                crc := crc # get_byte(data, i);
                FOR b IN 1 .. 8 LOOP
                  crc := CASE WHEN crc & 1 = 1 THEN (crc >> 1) # 2197175160 ELSE crc >> 1 END;
                END LOOP;
              END LOOP;
              RETURN crc # 4294967295;
            END
            $crc$""";

    /** The slot of the value of {@code expression} (an integer or text key) computed on a PostgreSQL shard. */
    public static String postgresSlotExpression(String expression, int slots) {
        return POSTGRES_FUNCTION + "(convert_to((" + expression + ")::text, 'UTF8')) % " + slots;
    }

    private SlotFunction() {}

    /** Home slot of a normalised key. */
    public static int slot(String normalizedKey, int slots) {
        if (slots <= 0) {
            throw new IllegalArgumentException("slots must be positive, was " + slots);
        }
        CRC32C crc = new CRC32C();
        crc.update(normalizedKey.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % slots);
    }

    /** Slot of sub-key {@code subKey} of a normalised key split {@code k} ways; sub-key 0 is the home slot. */
    public static int slot(String normalizedKey, int subKey, int k, int slots) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, was " + k);
        }
        if (subKey < 0 || subKey >= k) {
            throw new IllegalArgumentException("sub-key must be in 0.." + (k - 1) + ", was " + subKey);
        }
        return (int) ((slot(normalizedKey, slots) + (long) subKey * slots / k) % slots);
    }
}
