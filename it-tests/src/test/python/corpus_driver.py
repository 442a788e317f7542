"""Runs compatibility-corpus cases with a Python driver and prints a transcript per case.

usage: /usr/bin/python3 corpus_driver.py pymysql|psycopg2 CASES.json

CASES.json: {"target": {host, port, user, password, database}, "cases": [{name, charset, steps: [{connection, setup,
mode, params, sql}]}]} as written by ScriptCorpusDriver. Each case starts with a line "### <name>"; a statement's
lines follow "A> <sql>": column descriptions, rows (repr of each value: the driver's own Python types), the row count,
lastrowid, warning count, or the error. Statements use "?" for parameters; they become the driver's "%s" here.
"""
import datetime
import decimal
import json
import sys


def placeholders(sql):
    """'?' outside quotes becomes '%s'; a literal '%' is doubled (both drivers use pyformat when given parameters)."""
    out, quote = [], None
    for ch in sql:
        if quote:
            out.append('%%' if ch == '%' else ch)
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
            out.append(ch)
        elif ch == '?':
            out.append('%s')
        elif ch == '%':
            out.append('%%')
        else:
            out.append(ch)
    return ''.join(out)


def param(p):
    if isinstance(p, dict) and 'hex' in p:
        return bytes.fromhex(p['hex'])
    if isinstance(p, dict) and 'timestamp' in p:
        return datetime.datetime.fromisoformat(p['timestamp'])
    if isinstance(p, float):
        return decimal.Decimal(repr(p))
    return p


def show(v):
    """repr of a value; a memoryview (psycopg2's bytea) as the bytes it holds, since its repr is an address."""
    return repr(bytes(v)) if isinstance(v, memoryview) else repr(v)


# The server's fields besides those pgerror shows (not FILE, LINE, ROUTINE: the proxy's own errors cannot name a server
# source line).
DIAG_FIELDS = ('statement_position', 'internal_position', 'internal_query', 'context', 'schema_name', 'table_name',
               'column_name', 'datatype_name', 'constraint_name')


def diag(d):
    return ''.join(' %s=%s' % (k, one_line(getattr(d, k))) for k in DIAG_FIELDS if getattr(d, k, None))


def one_line(s):
    return str(s).replace('\r', '\\r').replace('\n', '\\n')


class PyMySQL:
    name = 'pymysql'

    def __init__(self):
        import pymysql
        self.mod = pymysql

    def version(self):
        return 'PyMySQL ' + self.mod.__version__

    def connect(self, t, charset):
        return self.mod.connect(host=t['host'], port=t['port'], user=t['user'], password=t['password'],
                                database=t['database'], charset=charset, autocommit=True,
                                client_flag=self.mod.constants.CLIENT.MULTI_STATEMENTS)

    def error(self, e):
        if isinstance(e, self.mod.err.MySQLError) and len(e.args) == 2:
            return 'error: %s %s %s' % (type(e).__name__, e.args[0], one_line(e.args[1]))
        return 'error: %s %s' % (type(e).__name__, one_line(e))

    def after(self, conn, cur, out):
        out.append('rowcount: %r lastrowid: %r warnings: %r' % (cur.rowcount, cur.lastrowid,
                                                               conn._result.warning_count if conn._result else None))
        if cur.description is None and conn._result is not None:
            # the OK packet's status flags (autocommit, in transaction, no index used, ...)
            out.append('ok-detail: server_status=0x%04x' % (conn._result.server_status or 0))


class Psycopg2:
    name = 'psycopg2'

    def __init__(self):
        import psycopg2
        self.mod = psycopg2

    def version(self):
        return 'psycopg2 ' + self.mod.__version__

    def connect(self, t, charset):
        conn = self.mod.connect(host=t['host'], port=t['port'], user=t['user'], password=t['password'],
                                dbname=t['database'], sslmode='disable', client_encoding='UTF8' if charset == 'utf8mb4' else charset)
        conn.autocommit = True
        return conn

    def error(self, e):
        if isinstance(e, self.mod.Error):
            return 'error: %s %s %s%s' % (type(e).__name__, e.pgcode, one_line(e.pgerror if e.pgerror else e), diag(e.diag))
        return 'error: %s %s' % (type(e).__name__, one_line(e))

    def after(self, conn, cur, out):
        out.append('rowcount: %r statusmessage: %r' % (cur.rowcount, cur.statusmessage))
        for n in conn.notices:
            out.append('notice: ' + one_line(n))
        del conn.notices[:]


def print_results(cur, out):
    while True:
        if cur.description is not None:
            for d in cur.description:
                out.append('column: %r type_code=%r' % (d[0], d[1]))
                out.append('column-detail: ' + repr(tuple(d[2:])))
            for row in cur.fetchall():
                out.append('row: ' + ' | '.join(show(v) for v in row))
        nextset = getattr(cur, 'nextset', None)
        if nextset is None or not nextset():
            break


def run_case(drv, target, case, out):
    conns = {}
    try:
        for step in case['steps']:
            conn = conns.get(step['connection'])
            if conn is None:
                conn = conns[step['connection']] = drv.connect(target, case['charset'])
            lines = []
            failed = False
            try:
                cur = conn.cursor()
                sql = step['sql']
                if step['mode'] == 'TEXT':
                    cur.execute(sql)
                elif step['mode'] == 'PREPARED':
                    cur.execute(placeholders(sql), [param(p) for p in step['params']])
                else:
                    cur.executemany(placeholders(sql), [[param(p) for p in s] for s in step['params']])
                print_results(cur, lines)
                drv.after(conn, cur, lines)
                cur.close()
            except Exception as e:  # the transcript records every failure
                failed = True
                lines.append(drv.error(e))
                if drv.name == 'psycopg2':
                    del conn.notices[:]
            if not step['setup'] or failed:
                out.append('%s> %s' % (step['connection'], step['sql']))
                out.extend(lines)
    except Exception as e:
        out.append('connect failed: ' + drv.error(e))
    finally:
        for c in conns.values():
            try:
                c.close()
            except Exception:
                pass


def main():
    drv = {'pymysql': PyMySQL, 'psycopg2': Psycopg2}[sys.argv[1]]()
    if sys.argv[2] == '--version':
        print(drv.version())
        return
    with open(sys.argv[2], encoding='utf-8') as f:
        spec = json.load(f)
    for case in spec['cases']:
        out = []
        run_case(drv, spec['target'], case, out)
        sys.stdout.write('### %s\n' % case['name'])
        for line in out:
            sys.stdout.write(line + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
