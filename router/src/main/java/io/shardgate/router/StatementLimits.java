package io.shardgate.router;

import io.shardgate.cluster.Dialect;
import java.util.Optional;

/**
 * How large and how deep a statement may be before the router refuses to analyse it. JSqlParser's cost grows
 * exponentially with the nesting of parentheses and its trees (and every walk over them) recurse once per operator
 * of a chain ({@code a OR b OR …}), so a statement past these limits could take seconds of CPU or end its thread
 * with a StackOverflowError. The check is one pass over the text, before anything is parsed or run.
 *
 * @param maxDepth     deepest nesting of parentheses ({@code limits.max-statement-depth})
 * @param maxOperators most boolean and arithmetic operators ({@code AND OR XOR NOT && || + - * / % DIV MOD}),
 *                     a sign in front of a value not counted ({@code limits.max-statement-operators})
 * @param maxItems     most comma-separated items, all lists together: IN lists, VALUES rows, select lists
 *                     ({@code limits.max-statement-items})
 */
public record StatementLimits(int maxDepth, int maxOperators, int maxItems) {
    public static final String DEPTH_KEY = "limits.max-statement-depth";
    public static final String OPERATORS_KEY = "limits.max-statement-operators";
    public static final String ITEMS_KEY = "limits.max-statement-items";
    /**
     * Defaults: real statements nest a few levels (ORMs rarely pass 10); 1,000 operators stay far below the
     * recursion that overflows a thread's stack (about 3,000 on a default 1 MiB stack); 200,000 items take a
     * 65,535-parameter IN list and its text twin with room to spare.
     */
    public static final StatementLimits DEFAULTS = new StatementLimits(32, 1_000, 200_000);

    public StatementLimits {
        if (maxDepth < 1 || maxOperators < 1 || maxItems < 1) {
            throw new IllegalArgumentException("statement limits must be at least 1, were depth " + maxDepth + ", operators "
                    + maxOperators + ", items " + maxItems);
        }
    }

    /** Why {@code sql} is past a limit (the message names the limit and its key), or empty when it is within them. */
    public Optional<String> check(String sql, Dialect dialect) {
        int depth = 0;
        int deepest = 0;
        int operators = 0;
        int items = 1;
        boolean operandExpected = true;  // a '-' or '+' here is a sign, not an operator
        int i = 0;
        int n = sql.length();
        while (i < n) {
            int skip = SqlText.skipQuotedOrComment(sql, i, dialect);
            if (skip > i) {
                i = skip;
                operandExpected = false;
                continue;
            }
            char c = sql.charAt(i);
            if (Character.isLetter(c) || c == '_') {
                int end = i + 1;
                while (end < n && (Character.isLetterOrDigit(sql.charAt(end)) || sql.charAt(end) == '_' || sql.charAt(end) == '$')) {
                    end++;
                }
                boolean operator = isWordOperator(sql, i, end - i);
                operators += operator ? 1 : 0;
                operandExpected = operator;
                i = end;
                continue;
            }
            switch (c) {
                case '(' -> {
                    depth++;
                    deepest = Math.max(deepest, depth);
                    operandExpected = true;
                }
                case ')' -> {
                    depth = Math.max(0, depth - 1);
                    operandExpected = false;
                }
                case ',' -> {
                    items++;
                    operandExpected = true;
                }
                case '+', '-' -> {
                    operators += operandExpected ? 0 : 1;
                    operandExpected = true;
                }
                case '*', '/', '%', '&', '|', '^', '!' -> {
                    operators += (c == '&' || c == '|') && i + 1 < n && sql.charAt(i + 1) == c ? 0 : 1; // && and || count once
                    operandExpected = true;
                }
                case '=', '<', '>' -> operandExpected = true;
                default -> operandExpected = operandExpected && Character.isWhitespace(c);
            }
            if (deepest > maxDepth) {
                return Optional.of("the statement nests parentheses deeper than " + maxDepth + " levels (" + DEPTH_KEY + ")");
            }
            i++;
        }
        if (operators > maxOperators) {
            return Optional.of("the statement has " + operators + " boolean and arithmetic operators, more than " + maxOperators
                    + " (" + OPERATORS_KEY + "); split it, or use IN (…) for a list of values");
        }
        if (items > maxItems) {
            return Optional.of("the statement has " + items + " list items, more than " + maxItems + " (" + ITEMS_KEY
                    + "); split it into several statements");
        }
        return Optional.empty();
    }

    /** AND, OR, XOR, NOT, DIV, MOD, case-insensitive, without allocating. */
    private static boolean isWordOperator(String sql, int start, int length) {
        return switch (length) {
            case 2 -> sql.regionMatches(true, start, "OR", 0, 2);
            case 3 -> sql.regionMatches(true, start, "AND", 0, 3) || sql.regionMatches(true, start, "XOR", 0, 3)
                    || sql.regionMatches(true, start, "NOT", 0, 3) || sql.regionMatches(true, start, "DIV", 0, 3)
                    || sql.regionMatches(true, start, "MOD", 0, 3);
            default -> false;
        };
    }

    /** The message of a statement whose analysis overflowed the stack although it passed the checks. */
    static String overflowMessage() {
        return "the statement is too deep to analyse (it overflowed the proxy's stack); lower " + DEPTH_KEY + " or "
                + OPERATORS_KEY + " so that such statements are refused before they are parsed";
    }
}
