package io.shardgate.router;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * MySQL and MariaDB statement text as the server's lexer reads it, written once for the front end and the router:
 * where the statements of a multi-statement message begin and end, which executable comments the server runs
 * ({@code /*! … *}{@code /}, {@code /*!40101 … *}{@code /}, MariaDB's {@code /*M! … *}{@code /}, {@code /*M!100100 … *}{@code /}),
 * and the text the proxy analyses: an executable comment the server runs has its content in place and its markers
 * blanked, one it skips is blanked whole, so routing, column lists and merges see what the server executes.
 *
 * <p>It reads a {@link CharSequence}, so the same code serves a {@code String} and the client's bytes through
 * {@link Latin1View}: in the character sets the MySQL front end serves (utf8, utf8mb4, latin1, ascii, binary) no byte
 * of 0x80 or more is a quote, a semicolon, a backslash, a comment marker or white space, so byte offsets found on the
 * view are the statement boundaries in the client's bytes. Quotes: {@code '…'} and {@code "…"} with backslash escapes
 * and doubled quotes, {@code `…`} with doubled backquotes. Comments: {@code # …}, {@code -- …} (the dashes followed by
 * white space or a control character), {@code /* … *}{@code /}. {@code DELIMITER} is the command-line client's and is
 * never on the wire. The session's {@code NO_BACKSLASH_ESCAPES} SQL mode is not followed (a backslash before a quote
 * then ends the string on the server): such a client's statement that holds {@code \'} may be split elsewhere.
 */
public final class MySqlLexer {
    private MySqlLexer() {}

    /**
     * Which executable comments a server runs. MySQL and MariaDB run {@code /*!NNNNN …} when NNNNN (5 or 6 digits) is at
     * most their version; MariaDB skips MySQL's 5.7 and 8.0 numbers (50700–99999) unless written {@code /*M!}, and
     * MySQL reads {@code /*M!} as a plain comment. Without a number the content always runs.
     *
     * @param version the server's version as {@code major * 10000 + minor * 100 + patch} (10.11.6 → 101106)
     */
    public record Gate(int version, boolean mariaDb) {
        /** MariaDB 10.11.0, the shards this project is built and tested against; used until the shards' version is known. */
        public static final Gate DEFAULT = new Gate(101100, true);
        private static final Pattern VERSION = Pattern.compile("^(?:5\\.5\\.5-)?(\\d+)\\.(\\d+)\\.(\\d+)");

        /** The gate of a server announcing {@code version} ({@code 10.11.6-MariaDB…}, {@code 5.5.5-10.11.6-MariaDB…}, {@code 8.0.36}). */
        public static Gate of(String version) {
            Matcher m = VERSION.matcher(version);
            if (!m.find()) {
                return DEFAULT;
            }
            int v = Integer.parseInt(m.group(1)) * 10000 + Integer.parseInt(m.group(2)) * 100 + Integer.parseInt(m.group(3));
            return new Gate(v, version.contains("MariaDB"));
        }

        boolean runs(int commentVersion, boolean mariaSyntax) {
            if (mariaSyntax && !mariaDb) {
                return false;
            }
            if (commentVersion < 0) {
                return true;
            }
            return commentVersion <= version && (!mariaDb || mariaSyntax || commentVersion < 50700 || commentVersion > 99999);
        }
    }

    /** What a piece of text between semicolons holds: nothing but white space, only comments, or tokens. */
    public enum Kind { EMPTY, COMMENT, CONTENT }

    /**
     * One piece between top-level semicolons: from its first character that is not white space (its semicolon for an
     * empty piece) to its semicolon or the end of the text (exclusive).
     */
    public record Segment(int start, int end, Kind kind) {}

    /** The pieces of a text, the ranges its analysis text blanks, and whether a semicolon sits inside an executable comment. */
    record Scan(List<Segment> segments, List<int[]> blanks, boolean semicolonInExecutableComment, boolean unterminated) {}

    /** How the server runs one COM_QUERY message: statement by statement, or not at all. */
    public sealed interface Split {}

    /** Run these in order, stopping at the first error; none at all means the query was empty (1065). */
    public record Run(List<Piece> pieces) implements Split {
        public Run {
            pieces = List.copyOf(pieces);
        }
    }

    /** The proxy cannot run this message as the server would; nothing of it may run. */
    public record Refused(String reason) implements Split {}

    /** One result of a multi-statement message. */
    public sealed interface Piece {}

    /** A statement: the text's characters {@code [start, end)}. */
    public record Statement(int start, int end) implements Piece {}

    /** A last piece of only comments: the server answers it with an OK packet (an "empty query" that had a comment). */
    public record CommentOnly() implements Piece {}

    /**
     * How a server with CLIENT_MULTI_STATEMENTS runs {@code text}: every statement on its own. Semicolons and white
     * space after the last statement are no statement; a last piece of only comments is answered with an OK; an empty
     * piece or a comment-only piece followed by a semicolon is where the server's parser fails (1064 near the rest), so
     * the rest of the message is the last statement, sent as it is for the server to report that error. A compound
     * statement (a stored program's body, {@code BEGIN NOT ATOMIC}) holds semicolons of its own: first in the message it
     * is the whole message; later it is refused, as is a semicolon inside an executable comment.
     */
    public static Split splitMulti(CharSequence text, Gate gate) {
        Scan scan = scan(text, gate);
        List<Segment> segments = trimmed(scan.segments());
        List<Piece> pieces = new ArrayList<>(segments.size());
        for (int k = 0; k < segments.size(); k++) {
            Segment s = segments.get(k);
            if (s.kind() == Kind.CONTENT) {
                if (compound(text, s, gate)) {
                    if (k == 0) {
                        return new Run(List.of(new Statement(s.start(), text.length())));
                    }
                    return new Refused("a stored program or compound statement (BEGIN … END) is not the first statement of"
                            + " the message; send it as a message of its own");
                }
                pieces.add(new Statement(s.start(), s.end()));
            } else if (k == segments.size() - 1) {
                pieces.add(new CommentOnly());
            } else {
                pieces.add(new Statement(s.start(), text.length()));
                break;
            }
        }
        if (scan.semicolonInExecutableComment()) {
            return new Refused("a semicolon inside an executable comment (/*! … */) of a multi-statement message; send those"
                    + " statements one at a time");
        }
        return new Run(pieces);
    }

    /**
     * Whether a server without CLIENT_MULTI_STATEMENTS refuses {@code text} with a syntax error (1064) before running
     * any of it, for a reason seen here: a block comment left open, or more than one statement (a statement
     * may be followed by semicolons, white space and, after its first semicolon, one piece of comments, and a compound
     * statement's own semicolons do not count).
     */
    public static boolean serverSyntaxError(CharSequence text, Gate gate) {
        Scan scan = scan(text, gate);
        return scan.unterminated() || severalStatements(text, gate, scan);
    }

    /** The multi-statement part of {@link #serverSyntaxError}. */
    public static boolean severalStatements(CharSequence text, Gate gate) {
        return containsSemicolon(text) && severalStatements(text, gate, scan(text, gate));
    }

    private static boolean severalStatements(CharSequence text, Gate gate, Scan scan) {
        List<Segment> segments = trimmed(scan.segments());
        Segment first = segments.isEmpty() ? null : segments.getFirst();
        if (first != null && first.kind() == Kind.CONTENT && compound(text, first, gate)) {
            return false;
        }
        return scan.semicolonInExecutableComment()
                || !(segments.size() < 2 || segments.size() == 2 && segments.get(1).kind() == Kind.COMMENT);
    }

    /** The text the proxy analyses: executable comments the server runs have their markers blanked, others are blanked whole. */
    public static String forAnalysis(String text, Gate gate) {
        if (!mayHoldExecutableComment(text)) {
            return text;
        }
        Scan scan = scan(text, gate);
        if (scan.blanks().isEmpty()) {
            return text;
        }
        char[] out = text.toCharArray();
        for (int[] b : scan.blanks()) {
            java.util.Arrays.fill(out, b[0], b[1], ' ');
        }
        return new String(out);
    }

    private static boolean containsSemicolon(CharSequence text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == ';') {
                return true;
            }
        }
        return false;
    }

    private static boolean mayHoldExecutableComment(String text) {
        int i = text.indexOf("/*");
        while (i >= 0) {
            if (i + 2 < text.length() && (text.charAt(i + 2) == '!' || text.charAt(i + 2) == 'M')) {
                return true;
            }
            i = text.indexOf("/*", i + 2);
        }
        return false;
    }

    /** Without the empty pieces at the end: semicolons and white space after the last statement are no statement. */
    private static List<Segment> trimmed(List<Segment> segments) {
        int n = segments.size();
        while (n > 0 && segments.get(n - 1).kind() == Kind.EMPTY) {
            n--;
        }
        return segments.subList(0, n);
    }

    private static final Set<String> COMPOUND_START = Set.of("IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR", "DECLARE");
    private static final Set<String> STORED_PROGRAM = Set.of("PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE");
    private static final Set<String> OTHER_OBJECT = Set.of("TABLE", "VIEW", "INDEX", "DATABASE", "SCHEMA", "USER", "ROLE",
            "SEQUENCE", "SERVER", "TABLESPACE", "(");

    /** A stored program's definition or a compound statement, whose body may hold semicolons of its own. */
    private static boolean compound(CharSequence text, Segment s, Gate gate) {
        if (plainStatement(text, s.start(), s.end())) {
            return false;
        }
        List<String> w = SqlText.firstWords(forAnalysis(text.subSequence(s.start(), s.end()).toString(), gate), 16);
        if (w.isEmpty()) {
            return false;
        }
        String first = w.getFirst();
        if (COMPOUND_START.contains(first) || w.size() > 1 && w.get(1).equals(":")
                || first.equals("BEGIN") && w.size() > 1 && w.get(1).equals("NOT")) {
            return true;
        }
        if (first.equals("CREATE") || first.equals("ALTER")) {
            for (String word : w.subList(1, w.size())) {
                if (STORED_PROGRAM.contains(word)) {
                    return true;
                }
                if (OTHER_OBJECT.contains(word)) {
                    return false;
                }
            }
        }
        return false;
    }

    /**
     * A cheap, allocation-free answer for nearly every statement: it starts (after white space) with a word that no
     * compound statement or stored-program definition starts with, and no label colon follows that word.
     */
    private static boolean plainStatement(CharSequence text, int start, int end) {
        int i = start;
        while (i < end && isWordChar(text.charAt(i))) {
            i++;
        }
        if (i == start) {
            return false; // a comment or parenthesis first: let the careful path read it
        }
        int j = i;
        while (j < end && text.charAt(j) == ' ') {
            j++;
        }
        if (j < end && text.charAt(j) == ':') {
            return false;
        }
        return !(startsWord(text, start, i, "IF") || startsWord(text, start, i, "CASE") || startsWord(text, start, i, "LOOP")
                || startsWord(text, start, i, "WHILE") || startsWord(text, start, i, "REPEAT") || startsWord(text, start, i, "FOR")
                || startsWord(text, start, i, "DECLARE") || startsWord(text, start, i, "BEGIN")
                || startsWord(text, start, i, "CREATE") || startsWord(text, start, i, "ALTER"));
    }

    private static boolean startsWord(CharSequence text, int start, int end, String word) {
        if (end - start != word.length()) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            if (Character.toUpperCase(text.charAt(start + k)) != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isWordChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$';
    }

    /** Reads the whole text once; see the class comment for the rules. */
    static Scan scan(CharSequence s, Gate gate) {
        return new Scanner(s, gate).run();
    }

    private static final class Scanner {
        private final CharSequence s;
        private final Gate gate;
        private final int n;
        private final List<Segment> segments = new ArrayList<>();
        private final List<int[]> blanks = new ArrayList<>();
        private boolean semicolonInExecutableComment;
        private boolean inExecutableComment;
        private boolean unterminated;
        private int start = -1;
        private boolean content;
        private boolean comment;

        Scanner(CharSequence s, Gate gate) {
            this.s = s;
            this.gate = gate;
            this.n = s.length();
        }

        Scan run() {
            int i = 0;
            while (i < n) {
                i = step(i);
            }
            segments.add(new Segment(start < 0 ? n : start, n, kind()));
            return new Scan(segments, blanks, semicolonInExecutableComment, unterminated || inExecutableComment);
        }

        private Kind kind() {
            return content ? Kind.CONTENT : comment ? Kind.COMMENT : Kind.EMPTY;
        }

        private void mark(int i, boolean isContent) {
            if (start < 0) {
                start = i;
            }
            if (isContent) {
                content = true;
            } else {
                comment = true;
            }
        }

        /** Consumes one token or character at {@code i}; returns the index after it. */
        private int step(int i) {
            char c = s.charAt(i);
            if (isSpace(c)) {
                return i + 1;
            }
            char next = i + 1 < n ? s.charAt(i + 1) : 0;
            if (c == ';') {
                if (inExecutableComment) {
                    semicolonInExecutableComment = true;
                    mark(i, true);
                    return i + 1;
                }
                segments.add(new Segment(start < 0 ? i : start, i, kind()));
                start = -1;
                content = false;
                comment = false;
                return i + 1;
            }
            if (c == '\'' || c == '"' || c == '`') {
                mark(i, true);
                return quoted(i, c, c != '`');
            }
            if (c == '#' || c == '-' && next == '-' && (i + 2 >= n || isSpace(s.charAt(i + 2)) || s.charAt(i + 2) < ' ')) {
                mark(i, false);
                return lineEnd(i);
            }
            if (c == '/' && next == '*') {
                mark(i, false);
                return blockComment(i);
            }
            if (c == '*' && next == '/' && inExecutableComment) {
                inExecutableComment = false;
                blanks.add(new int[] {i, i + 2});
                return i + 2;
            }
            mark(i, true);
            return i + 1;
        }

        private int quoted(int i, char quote, boolean backslashEscapes) {
            int j = i + 1;
            while (j < n) {
                char c = s.charAt(j);
                if (backslashEscapes && c == '\\') {
                    j += 2;
                } else if (c == quote) {
                    if (j + 1 < n && s.charAt(j + 1) == quote) {
                        j += 2;
                    } else {
                        return j + 1;
                    }
                } else {
                    j++;
                }
            }
            // a quote left open is not flagged: under NO_BACKSLASH_ESCAPES (not followed here) 'a\' is closed
            return n;
        }

        private int lineEnd(int i) {
            int j = i;
            while (j < n && s.charAt(j) != '\n') {
                j++;
            }
            return Math.min(j + 1, n);
        }

        /** A comment opening at {@code i} ({@code /*}): plain, or executable (run or skipped as the gate says). */
        private int blockComment(int i) {
            int j = i + 2;
            boolean maria = j + 1 < n && s.charAt(j) == 'M' && s.charAt(j + 1) == '!';
            boolean executable = maria || j < n && s.charAt(j) == '!';
            if (!executable || inExecutableComment) {
                return commentEnd(j, 0);
            }
            j += maria ? 2 : 1;
            int digits = 0;
            while (digits < 6 && j + digits < n && Character.isDigit(s.charAt(j + digits))) {
                digits++;
            }
            int version = -1;
            if (digits >= 5) {
                version = Integer.parseInt(s.subSequence(j, j + digits).toString());
                j += digits;
            }
            if (gate.runs(version, maria)) {
                inExecutableComment = true;
                blanks.add(new int[] {i, j});
                return j;
            }
            int end = commentEnd(j, 1);
            blanks.add(new int[] {i, end});
            return end;
        }

        /** Index after the {@code *}{@code /} closing a comment whose text starts at {@code j}; {@code nesting} levels of inner comments. */
        private int commentEnd(int j, int nesting) {
            while (j < n) {
                char c = s.charAt(j);
                if (nesting > 0 && c == '/' && j + 1 < n && s.charAt(j + 1) == '*') {
                    j = commentEnd(j + 2, nesting - 1);
                } else if (c == '*' && j + 1 < n && s.charAt(j + 1) == '/') {
                    return j + 2;
                } else {
                    j++;
                }
            }
            unterminated = true;
            return n;
        }

        private static boolean isSpace(char c) {
            return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
        }
    }

    /**
     * The client's bytes read as ISO-8859-1, one char per byte: what {@link #splitMulti} reads in place of a decoded
     * string, so that its offsets are byte offsets. No copy is made.
     */
    public record Latin1View(byte[] bytes, int offset, int length) implements CharSequence {
        public Latin1View(byte[] bytes) {
            this(bytes, 0, bytes.length);
        }

        @Override
        public char charAt(int index) {
            return (char) (bytes[offset + index] & 0xFF);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new Latin1View(bytes, offset + start, end - start);
        }

        @Override
        public String toString() {
            return new String(bytes, offset, length, java.nio.charset.StandardCharsets.ISO_8859_1);
        }
    }
}
