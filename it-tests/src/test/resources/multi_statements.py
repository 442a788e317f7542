"""Runs multi-statement messages with PyMySQL and prints every result as one JSON line per message.

Usage: /usr/bin/python3 multi_statements.py PORT USER PASSWORD DATABASE MULTI(0|1) < messages.json
Each message is one COM_QUERY. Per result: its columns and rows, or its affected rows, its warning count, and
the MORE_RESULTS (0x0008) and IN_TRANS (0x0001) bits of its final status; the error that ends a message is last.
PyMySQL does not ask for CLIENT_DEPRECATE_EOF, so this reads the classic EOF packets.
"""
import json
import sys

import pymysql
from pymysql.constants import CLIENT

port, user, password, database, multi = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1"
conn = pymysql.connect(host="127.0.0.1", port=int(port), user=user, password=password, database=database,
                       client_flag=CLIENT.MULTI_STATEMENTS if multi else 0, autocommit=True, charset="utf8mb4")
for sql in json.load(sys.stdin):
    results = []
    cur = conn.cursor()
    try:
        cur.execute(sql)
        while True:
            r = cur._result
            status = (r.server_status or 0) & 0x0009
            if cur.description:
                results.append({"columns": [d[0] for d in cur.description],
                                "rows": [[None if v is None else str(v) for v in row] for row in cur.fetchall()],
                                "warnings": r.warning_count, "status": status})
            else:
                results.append({"affected": r.affected_rows, "warnings": r.warning_count, "status": status})
            if not cur.nextset():
                break
    except pymysql.err.MySQLError as e:
        results.append({"error": list(e.args)})
        # an error ends the message; the connection is reusable, as with a server
    print(json.dumps({"sql": sql, "results": results}, ensure_ascii=False))
conn.close()
