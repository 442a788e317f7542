package io.shardgate.slot;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The slot function, {@code crc32c-v1}. Stable forever: changing it would misplace every row.
 *
 * <pre>
 *   slot(K)    = CRC32C(utf8(K))                          mod SLOTS     (unsigned 32-bit CRC)
 *   slot(K, 0) = slot(K)                                                 (sub-key 0 is the home slot)
 *   slot(K, i) = CRC32C(utf8(K) || 0x00 || ascii(decimal i)) mod SLOTS   for i &gt; 0
 * </pre>
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

    private SlotFunction() {}

    /** Home slot of a normalised key. */
    public static int slot(String normalizedKey, int slots) {
        return slot(normalizedKey, 0, slots);
    }

    /** Slot of sub-key {@code subKey} of a normalised key; sub-key 0 is the home slot. */
    public static int slot(String normalizedKey, int subKey, int slots) {
        if (slots <= 0) {
            throw new IllegalArgumentException("slots must be positive, was " + slots);
        }
        if (subKey < 0) {
            throw new IllegalArgumentException("sub-key must be >= 0, was " + subKey);
        }
        CRC32C crc = new CRC32C();
        crc.update(normalizedKey.getBytes(StandardCharsets.UTF_8));
        if (subKey > 0) {
            crc.update(0);
            crc.update(Integer.toString(subKey).getBytes(StandardCharsets.US_ASCII));
        }
        return (int) (crc.getValue() % slots);
    }
}
