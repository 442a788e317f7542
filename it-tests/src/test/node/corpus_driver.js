'use strict';
// Runs compatibility-corpus cases with a Node.js driver and prints a transcript per case.
//
// usage: node corpus_driver.js mysql2|pg CASES.json   (NODE_PATH names the node_modules npm ci filled)
//
// CASES.json is what ScriptCorpusDriver writes (see corpus_driver.py). Each case starts with "### <name>"; a
// statement's lines follow "A> <sql>": fields as the driver describes them, rows (values as the driver typed them:
// Buffers in hex, Dates in ISO form, strings JSON-quoted), the result header or command tag, or the error (code, errno,
// SQLSTATE, message). mysql2 runs TEXT statements with query() and PREPARED ones with execute() (a server-side
// prepared statement); pg runs TEXT statements as a simple query and PREPARED ones through the extended protocol.

const fs = require('fs');

const driverName = process.argv[2];
const oneLine = (s) => String(s).replace(/\r/g, '\\r').replace(/\n/g, '\\n');

function show(v) {
  if (v === null || v === undefined) return 'null';
  if (Buffer.isBuffer(v)) return "Buffer:x'" + v.toString('hex') + "'";
  if (v instanceof Date) return 'Date:' + (isNaN(v.getTime()) ? 'Invalid' : v.toISOString());
  if (typeof v === 'bigint') return 'bigint:' + v.toString();
  if (typeof v === 'object') return typeof v + ':' + JSON.stringify(v);
  return typeof v + ':' + JSON.stringify(v);
}

function param(p) {
  if (p !== null && typeof p === 'object' && 'hex' in p) return Buffer.from(p.hex, 'hex');
  if (p !== null && typeof p === 'object' && 'timestamp' in p) return new Date(p.timestamp.replace(' ', 'T') + 'Z');
  return p;
}

function dollars(sql) {
  // '?' outside quotes becomes $1, $2, ... for pg
  let n = 0; let quote = null; let out = '';
  for (const ch of sql) {
    if (quote) { out += ch; if (ch === quote) quote = null; }
    else if (ch === "'" || ch === '"') { quote = ch; out += ch; }
    else if (ch === '?') { out += '$' + (++n); }
    else out += ch;
  }
  return out;
}

const mysql2 = {
  version: () => 'mysql2 ' + require('mysql2/package.json').version,
  connect: async (t, charset) => require('mysql2/promise').createConnection({
    host: t.host, port: t.port, user: t.user, password: t.password, database: t.database,
    charset: charset.toUpperCase() === 'UTF8MB4' ? 'UTF8MB4_GENERAL_CI' : charset.toUpperCase() + '_SWEDISH_CI',
    multipleStatements: true, rowsAsArray: true, timezone: 'Z', supportBigNumbers: true, bigNumberStrings: true,
  }),
  run: async (conn, step) => {
    if (step.mode === 'TEXT') return conn.query(step.sql);
    if (step.mode === 'PREPARED') return conn.execute(step.sql, step.params.map(param));
    const out = [];
    for (const set of step.params) out.push(await conn.execute(step.sql, set.map(param)));
    return ['batch', out];
  },
  print: (res, lines) => {
    const [rows, fields] = res;
    if (rows === 'batch') { for (const r of fields) mysql2.print(r, lines); return; }
    if (Array.isArray(fields) && Array.isArray(fields[0])) { // several results (multi-statement)
      rows.forEach((r, i) => mysql2.print([r, fields[i]], lines));
      return;
    }
    if (fields) {
      for (const f of fields) {
        lines.push('column: ' + f.name + ' type=' + f.columnType);
        lines.push('column-detail: charset=' + f.characterSet + ' length=' + f.columnLength + ' flags=' + f.flags
          + ' decimals=' + f.decimals);
      }
      for (const r of rows) lines.push('row: ' + r.map(show).join(' | '));
    } else if (Array.isArray(rows)) {
      rows.forEach((r) => mysql2.print([r, undefined], lines));
    } else {
      lines.push('ok: affectedRows=' + rows.affectedRows + ' insertId=' + rows.insertId + ' warningStatus=' + rows.warningStatus);
      lines.push('ok-detail: changedRows=' + rows.changedRows + ' info=' + JSON.stringify(rows.info)
        + ' serverStatus=0x' + (rows.serverStatus || 0).toString(16).padStart(4, '0'));
    }
  },
  error: (e) => 'error: ' + e.code + ' ' + e.errno + ' ' + e.sqlState + ' ' + oneLine(e.sqlMessage || e.message),
};

const pg = {
  version: () => 'pg ' + require('pg/package.json').version,
  connect: async (t, charset) => {
    const { Client } = require('pg');
    const c = new Client({ host: t.host, port: t.port, user: t.user, password: t.password, database: t.database,
      ssl: false, client_encoding: charset === 'utf8mb4' ? 'UTF8' : charset });
    c.notices = [];
    c.on('notice', (n) => c.notices.push(n.severity + ' ' + n.code + ' ' + oneLine(n.message)));
    await c.connect();
    return c;
  },
  run: async (conn, step) => {
    if (step.mode === 'TEXT') return conn.query({ text: step.sql, rowMode: 'array' });
    if (step.mode === 'PREPARED') return conn.query({ text: dollars(step.sql), values: step.params.map(param), rowMode: 'array' });
    const out = [];
    for (const set of step.params) out.push(await conn.query({ text: dollars(step.sql), values: set.map(param), rowMode: 'array' }));
    return out;
  },
  print: (res, lines) => {
    for (const r of Array.isArray(res) ? res : [res]) {
      for (const f of r.fields || []) {
        lines.push('column: ' + f.name + ' type=' + f.dataTypeID + ' modifier=' + f.dataTypeModifier + ' format=' + f.format);
        lines.push('column-detail: size=' + f.dataTypeSize);
      }
      for (const row of r.rows || []) lines.push('row: ' + row.map(show).join(' | '));
      lines.push('ok: command=' + r.command + ' rowCount=' + r.rowCount);
    }
  },
  error: (e) => 'error: ' + e.code + ' ' + (e.severity || '') + ' ' + oneLine(e.message)
    + (e.detail ? ' detail=' + oneLine(e.detail) : '') + (e.hint ? ' hint=' + oneLine(e.hint) : '')
    + (e.position ? ' position=' + e.position : '')
    // the server's other fields (not FILE, LINE, ROUTINE: the proxy's own errors cannot name a server source line)
    + ['internalPosition', 'internalQuery', 'where', 'schema', 'table', 'column', 'dataType', 'constraint']
      .map((k) => (e[k] ? ' ' + k + '=' + oneLine(String(e[k])) : '')).join(''),
};

async function runCase(drv, target, c, out) {
  const conns = {};
  try {
    for (const step of c.steps) {
      if (!conns[step.connection]) conns[step.connection] = await drv.connect(target, c.charset);
      const conn = conns[step.connection];
      const lines = [];
      let failed = false;
      try {
        drv.print(await drv.run(conn, step), lines);
      } catch (e) {
        failed = true;
        lines.push(drv.error(e));
      }
      if (conn.notices) { for (const n of conn.notices) lines.push('notice: ' + n); conn.notices = []; }
      if (!step.setup || failed) {
        out.push(step.connection + '> ' + step.sql);
        out.push(...lines);
      }
    }
  } catch (e) {
    out.push('connect failed: ' + drv.error(e));
  } finally {
    for (const k of Object.keys(conns)) {
      try { await conns[k].end(); } catch (e) { /* the transcript is what matters */ }
    }
  }
}

async function main() {
  const drv = { mysql2, pg }[driverName];
  if (process.argv[3] === '--version') { console.log(drv.version()); return; }
  const spec = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
  for (const c of spec.cases) {
    const out = [];
    await runCase(drv, spec.target, c, out);
    process.stdout.write('### ' + c.name + '\n' + out.map((l) => l + '\n').join(''));
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
