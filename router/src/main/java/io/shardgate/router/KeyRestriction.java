package io.shardgate.router;

import java.util.ArrayList;
import java.util.List;

/** What a WHERE clause says about one column: nothing usable, or "one of these values". */
sealed interface KeyRestriction {

    /** Any value is possible (no predicate, a range, an OR with another column, …). */
    record Unrestricted() implements KeyRestriction {}

    /** The column equals one of {@code values}. */
    record OneOf(List<KeyValue> values) implements KeyRestriction {
        public OneOf {
            values = List.copyOf(values);
        }
    }

    KeyRestriction NONE = new Unrestricted();

    /** AND: either side's restriction holds for every row; keep the narrower one. */
    static KeyRestriction and(KeyRestriction a, KeyRestriction b) {
        return switch (a) {
            case Unrestricted u -> b;
            case OneOf x -> b instanceof OneOf y && y.values().size() < x.values().size() ? y : x;
        };
    }

    /** OR: a row satisfies one side or the other, so both sides must be restricted. */
    static KeyRestriction or(KeyRestriction a, KeyRestriction b) {
        if (a instanceof OneOf x && b instanceof OneOf y) {
            // a set, not List.contains: an OR chain of n keys would otherwise cost n² comparisons
            java.util.LinkedHashSet<KeyValue> all = new java.util.LinkedHashSet<>(x.values());
            all.addAll(y.values());
            return new OneOf(new ArrayList<>(all));
        }
        return NONE;
    }
}
