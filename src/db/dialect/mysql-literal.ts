/**
 * Values written into MySQL/MariaDB statements as literals: the copy's
 * multi-row INSERTs are built as one text in one pass, instead of a text of
 * placeholders that knex and then the driver each rewrite with the values
 * (measured on 1M allocations between two servers: the placeholder path was
 * 2 s of the copy's 6.4 s of CPU). The escapes are the driver's own
 * (mysql2's, for a server without NO_BACKSLASH_ESCAPES, as the copy's
 * connections are), so a statement reaches the server byte for byte as it
 * did before.
 */

/** The characters a quoted string literal escapes, and how, by code unit (none above 92). */
const ESCAPES: readonly (string | undefined)[] = (() => {
  const table = new Array<string | undefined>(93).fill(undefined);
  const escapes: [number, string][] = [
    [0, '\\0'],
    [8, '\\b'],
    [9, '\\t'],
    [10, '\\n'],
    [13, '\\r'],
    [26, '\\Z'],
    [34, '\\"'],
    [39, "\\'"],
    [92, '\\\\'],
  ];
  for (const [c, e] of escapes) table[c] = e;
  return table;
})();

/** A string as a quoted literal. */
export function mysqlString(s: string): string {
  let out = "'";
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const escaped = c < 93 ? ESCAPES[c] : undefined;
    if (escaped === undefined) continue;
    out += s.slice(from, i) + escaped;
    from = i + 1;
  }
  return `${out}${s.slice(from)}'`;
}

/**
 * One value as a literal: NULL, a number or bigint as written, a boolean
 * as true/false, a string quoted, bytes as X'…'. Anything else is a bug in
 * the caller (the copy's values come from a driver: never objects).
 */
export function mysqlLiteral(v: unknown): string {
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`not a number MySQL can store: ${v}`);
      return `${v}`;
    case 'bigint':
      return `${v}`;
    case 'string':
      return mysqlString(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'NULL';
    default:
      if (v === null) return 'NULL';
      if (Buffer.isBuffer(v)) return `X'${v.toString('hex')}'`;
      throw new Error(`no MySQL literal for a ${Object.prototype.toString.call(v)}`);
  }
}

/**
 * `INSERT INTO t (…) VALUES (…), (…)` with the rows' values as literals,
 * cut into statements of at most `maxRows` rows. `quote` quotes the names.
 */
export function mysqlInsertStatements(
  table: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  quote: (name: string) => string,
  maxRows: number,
): string[] {
  const head = `INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES `;
  const statements: string[] = [];
  for (let i = 0; i < rows.length; i += maxRows) {
    let sql = head;
    const end = Math.min(rows.length, i + maxRows);
    for (let r = i; r < end; r++) {
      const row = rows[r]!;
      sql += r === i ? '(' : ', (';
      for (let c = 0; c < row.length; c++) sql += (c === 0 ? '' : ', ') + mysqlLiteral(row[c]);
      sql += ')';
    }
    statements.push(sql);
  }
  return statements;
}
