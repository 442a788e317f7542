package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import io.shardgate.proxy.mysql.codec.MySqlProtocolException;
import io.shardgate.proxy.mysql.codec.Wire;

/**
 * Follows one command's reply packet by packet and says what each packet is and where the reply ends, reading only
 * the first bytes of a packet (never a row's values). The grammar depends on the command:
 * <ul>
 *   <li>{@link Grammar#RESULTS} (COM_QUERY, COM_STMT_EXECUTE): results one after another while an OK or the packet
 *       after the rows has {@code SERVER_MORE_RESULTS_EXISTS}; each result is an OK, or a result set (column count,
 *       column definitions, an EOF unless {@code DEPRECATE_EOF}, rows, and an EOF, or with {@code DEPRECATE_EOF} an OK
 *       with the 0xFE header); an ERR ends everything;</li>
 *   <li>{@link Grammar#PREPARE} (COM_STMT_PREPARE): the prepare OK, then as many parameter and column definitions as
 *       it announces, each group followed by an EOF unless {@code DEPRECATE_EOF}; or an ERR;</li>
 *   <li>{@link Grammar#STATUS} (COM_PING, COM_RESET_CONNECTION, COM_INIT_DB, COM_STMT_RESET): one OK or ERR.</li>
 * </ul>
 * A row never looks like the end of rows: a text row that starts with 0xFE holds a value of at least 2^24 bytes, so
 * its first piece is 0xFFFFFF bytes long, and the end packet is short (under 9 bytes as an EOF, under 0xFFFFFF as an
 * OK). A LOCAL INFILE request (0xFB) is refused: the proxy never offers {@code CLIENT_LOCAL_FILES}.
 */
final class ReplyReader {
    static final int SERVER_STATUS_IN_TRANS = 0x0001;
    static final int SERVER_STATUS_AUTOCOMMIT = 0x0002;
    static final int SERVER_MORE_RESULTS_EXISTS = 0x0008;

    enum Grammar { RESULTS, PREPARE, STATUS }

    private enum State { RESULT_START, COLUMNS, COLUMNS_EOF, ROWS, PREPARE_START, PARAMETERS, PARAMETERS_EOF,
        PREPARE_COLUMNS, PREPARE_COLUMNS_EOF, STATUS, DONE }

    private final boolean deprecateEof;
    private State state;
    private long remaining;
    private int preparedColumns;
    private PacketKind continuing;
    private int status = -1;

    ReplyReader(Grammar grammar, boolean deprecateEof) {
        this.deprecateEof = deprecateEof;
        this.state = switch (grammar) {
            case RESULTS -> State.RESULT_START;
            case PREPARE -> State.PREPARE_START;
            case STATUS -> State.STATUS;
        };
    }

    /** Whether the reply has ended (after the packet just read). */
    boolean done() {
        return state == State.DONE;
    }

    /** The server status flags of the last OK or EOF read, or -1 if none came. */
    int status() {
        return status;
    }

    /**
     * Reads one piece.
     *
     * @param payload       the piece's payload (not consumed)
     * @param continuation  whether it continues a logical packet
     * @param continues     whether the logical packet goes on in the next piece
     * @throws MySqlProtocolException if the packet does not fit the grammar or the reply had ended
     */
    PacketKind read(ByteBuf payload, boolean continuation, boolean continues) {
        if (continuation) {
            if (continuing == null) {
                throw unexpected("a continuation piece without a packet to continue", payload);
            }
            PacketKind kind = continuing;
            if (!continues) {
                continuing = null;
            }
            return kind;
        }
        PacketKind kind = classify(payload.duplicate(), payload.readableBytes(), continues);
        continuing = continues ? kind : null;
        return kind;
    }

    private PacketKind classify(ByteBuf p, int length, boolean continues) {
        if (length == 0) {
            throw unexpected("an empty packet", p);
        }
        int first = p.getUnsignedByte(p.readerIndex());
        return switch (state) {
            case RESULT_START -> resultStart(p, first);
            case COLUMNS -> column(first, p);
            case COLUMNS_EOF -> columnsEof(p, first);
            case ROWS -> row(p, first, length, continues);
            case PREPARE_START -> prepareStart(p, first);
            case PARAMETERS -> parameter(first, p);
            case PARAMETERS_EOF, PREPARE_COLUMNS_EOF -> prepareEof(p, first);
            case PREPARE_COLUMNS -> preparedColumn(first, p);
            case STATUS -> statusReply(p, first);
            case DONE -> throw unexpected("a packet after the end of the reply", p);
        };
    }

    private PacketKind resultStart(ByteBuf p, int first) {
        switch (first) {
            case 0x00 -> {
                endResult(okStatus(p));
                return PacketKind.OK;
            }
            case 0xFF -> {
                state = State.DONE;
                return PacketKind.ERROR;
            }
            case 0xFB -> throw new MySqlProtocolException(io.shardgate.proxy.error.ErrorCode.UNSUPPORTED,
                    "the shard asked for a LOCAL INFILE file, which the proxy never offers to send (LOAD DATA LOCAL is not supported)");
            default -> {
                remaining = Wire.readLenEnc(p, "column count");
                if (remaining <= 0) {
                    throw unexpected("a result set of " + remaining + " columns", p);
                }
                state = State.COLUMNS;
                return PacketKind.COLUMN_COUNT;
            }
        }
    }

    private PacketKind column(int first, ByteBuf p) {
        if (first == 0xFF) {
            state = State.DONE;
            return PacketKind.ERROR;
        }
        if (--remaining == 0) {
            state = deprecateEof ? State.ROWS : State.COLUMNS_EOF;
        }
        return PacketKind.COLUMN_DEFINITION;
    }

    private PacketKind columnsEof(ByteBuf p, int first) {
        if (first == 0xFF) {
            state = State.DONE;
            return PacketKind.ERROR;
        }
        if (first != 0xFE) {
            throw unexpected("no EOF after the column definitions", p);
        }
        state = State.ROWS;
        return PacketKind.METADATA_EOF;
    }

    private PacketKind row(ByteBuf p, int first, int length, boolean continues) {
        if (first == 0xFF && !continues) {
            state = State.DONE;
            return PacketKind.ERROR;
        }
        if (first == 0xFE && !continues && length < (deprecateEof ? PieceDecoder.MAX_PIECE : 9)) {
            endResult(deprecateEof ? okStatus(p) : eofStatus(p));
            return PacketKind.ROWS_END;
        }
        return PacketKind.ROW;
    }

    private void endResult(int flags) {
        status = flags;
        state = (flags & SERVER_MORE_RESULTS_EXISTS) != 0 ? State.RESULT_START : State.DONE;
    }

    private PacketKind prepareStart(ByteBuf p, int first) {
        if (first == 0xFF) {
            state = State.DONE;
            return PacketKind.ERROR;
        }
        if (first != 0x00) {
            throw unexpected("a COM_STMT_PREPARE reply that is neither OK nor ERR", p);
        }
        Wire.need(p, 9, "prepare OK");
        int columns = p.getUnsignedShortLE(p.readerIndex() + 5);
        int parameters = p.getUnsignedShortLE(p.readerIndex() + 7);
        preparedColumns = columns;
        if (parameters > 0) {
            remaining = parameters;
            state = State.PARAMETERS;
        } else {
            afterParameters();
        }
        return PacketKind.PREPARE_OK;
    }

    private PacketKind parameter(int first, ByteBuf p) {
        if (--remaining == 0) {
            if (deprecateEof) {
                afterParameters();
            } else {
                state = State.PARAMETERS_EOF;
            }
        }
        return PacketKind.PARAMETER_DEFINITION;
    }

    private void afterParameters() {
        if (preparedColumns > 0) {
            remaining = preparedColumns;
            state = State.PREPARE_COLUMNS;
        } else {
            state = State.DONE;
        }
    }

    private PacketKind preparedColumn(int first, ByteBuf p) {
        if (--remaining == 0) {
            state = deprecateEof ? State.DONE : State.PREPARE_COLUMNS_EOF;
        }
        return PacketKind.COLUMN_DEFINITION;
    }

    private PacketKind prepareEof(ByteBuf p, int first) {
        if (first != 0xFE) {
            throw unexpected("no EOF after the prepared statement's definitions", p);
        }
        if (state == State.PARAMETERS_EOF) {
            afterParameters();
        } else {
            state = State.DONE;
        }
        return PacketKind.PREPARE_EOF;
    }

    private PacketKind statusReply(ByteBuf p, int first) {
        switch (first) {
            case 0x00 -> {
                status = okStatus(p);
                state = State.DONE;
                return PacketKind.OK;
            }
            case 0xFF -> {
                state = State.DONE;
                return PacketKind.ERROR;
            }
            default -> throw unexpected("a reply that is neither OK nor ERR", p);
        }
    }

    /** Status flags of an OK packet (header 0x00 or 0xFE): header, affected rows, last insert id, status. */
    static int okStatus(ByteBuf okPayload) {
        ByteBuf p = okPayload.duplicate();
        p.skipBytes(1);
        Wire.readLenEnc(p, "affected rows");
        Wire.readLenEnc(p, "last insert id");
        Wire.need(p, 2, "status flags");
        return p.readUnsignedShortLE();
    }

    /** Status flags of an EOF packet: header 0xFE, warnings, status. */
    static int eofStatus(ByteBuf eofPayload) {
        Wire.need(eofPayload, 5, "EOF packet");
        return eofPayload.getUnsignedShortLE(eofPayload.readerIndex() + 3);
    }

    private MySqlProtocolException unexpected(String what, ByteBuf p) {
        int n = Math.min(16, p.readableBytes());
        return new MySqlProtocolException(io.shardgate.proxy.error.ErrorCode.INTERNAL, "unexpected reply from the shard: " + what
                + " (reader state " + state + ", packet starts " + io.netty.buffer.ByteBufUtil.hexDump(p, p.readerIndex(), n) + ")");
    }
}
