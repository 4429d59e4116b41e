import type { Knex } from 'knex';
import type { Dialect } from '../db/dialect/dialect.js';
import type { CopyTable } from './tables.js';

export type Row = Record<string, unknown>;

/** Where a table sits in one database: which of placement's columns it has. */
export interface TableLayout {
  table: CopyTable;
  present: boolean;
  /** Placement columns this database's table has (others come from defaults). */
  columns: string[];
}

/**
 * Reads a table in key order, `batchSize` rows at a time, by keyset
 * pagination (never OFFSET: constant cost per page, and a page boundary
 * survives concurrent inserts). Rows carry every placement column, with the
 * table's defaults where this database lacks one.
 */
export async function* readBatches(
  conn: Knex,
  dialect: Dialect,
  layout: TableLayout,
  options: { batchSize: number; after?: Row | null },
): AsyncGenerator<Row[]> {
  if (!layout.present) return;
  const { table } = layout;
  const q = dialect.quote;
  const select = `SELECT ${layout.columns.map(q).join(', ')} FROM ${q(table.name)}`;
  const order = ` ORDER BY ${table.key.map(q).join(', ')} LIMIT ${options.batchSize}`;
  let after = options.after ?? null;
  for (;;) {
    const { where, bindings } = after
      ? keysetAfter(table.key, after, q)
      : { where: '', bindings: [] };
    const rows = dialect.rows<Row>(
      await conn.raw(`${select}${where}${order}`, bindings as Knex.RawBinding[]),
    );
    if (rows.length === 0) return;
    for (const row of rows)
      for (const [c, v] of Object.entries(table.defaults)) if (!(c in row)) row[c] = v;
    yield rows;
    if (rows.length < options.batchSize) return;
    after = rows[rows.length - 1]!;
  }
}

/** `WHERE (k1, k2) > (a, b)`, spelled out so every engine uses the index. */
export function keysetAfter(
  key: readonly string[],
  after: Row,
  q: (s: string) => string,
): { where: string; bindings: unknown[] } {
  const clauses: string[] = [];
  const bindings: unknown[] = [];
  key.forEach((k, i) => {
    const eq = key.slice(0, i).map((p) => `${q(p)} = ?`);
    clauses.push(`(${[...eq, `${q(k)} > ?`].join(' AND ')})`);
    for (const p of key.slice(0, i)) bindings.push(after[p]);
    bindings.push(after[k]);
  });
  return { where: ` WHERE ${clauses.join(' OR ')}`, bindings };
}

/** The row with the greatest key, or null for an empty table. */
export async function lastKey(conn: Knex, dialect: Dialect, table: CopyTable): Promise<Row | null> {
  const q = dialect.quote;
  const rows = dialect.rows<Row>(
    await conn.raw(
      `SELECT ${table.key.map(q).join(', ')} FROM ${q(table.name)} ORDER BY ${table.key.map((k) => `${q(k)} DESC`).join(', ')} LIMIT 1`,
    ),
  );
  return rows[0] ?? null;
}

/** COUNT(*) of a table. */
export async function countRows(conn: Knex, dialect: Dialect, table: string): Promise<number> {
  const [row] = dialect.rows<{ n: number | string }>(
    await conn.raw(`SELECT COUNT(*) AS n FROM ${dialect.quote(table)}`),
  );
  return Number(row?.n ?? 0);
}
