import type { Knex } from 'knex';
import type { Dialect } from '../db/dialect/dialect.js';
import { yieldToEventLoop } from '../util/event-loop.js';
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
 * A slice of a table with a single integer key: the rows with
 * `above < key <= upTo` (a null bound is open). Large tables are copied and
 * verified as several slices at once; each slice resumes on its own.
 */
export interface KeyRange {
  above: number | null;
  upTo: number | null;
}

/** The SQL condition and bindings that keep a query inside `range`. */
export function rangeCondition(
  key: readonly string[],
  range: KeyRange | undefined,
  q: (s: string) => string,
): { clauses: string[]; bindings: unknown[] } {
  if (!range) return { clauses: [], bindings: [] };
  if (key.length !== 1) throw new Error('key ranges need a single-column key');
  const k = q(key[0]!);
  const clauses: string[] = [];
  const bindings: unknown[] = [];
  if (range.above !== null) {
    clauses.push(`${k} > ?`);
    bindings.push(range.above);
  }
  if (range.upTo !== null) {
    clauses.push(`${k} <= ?`);
    bindings.push(range.upTo);
  }
  return { clauses, bindings };
}

/**
 * The conditions that keep a read inside `range` and after the key of
 * `after` (each may be absent). `q` writes a key column as the statement
 * names it (quoted, and with its table's alias where there is one).
 */
export function pageCondition(
  key: readonly string[],
  range: KeyRange | undefined,
  after: Row | null,
  q: (s: string) => string,
): { clauses: string[]; bindings: unknown[] } {
  const { clauses, bindings } = rangeCondition(key, range, q);
  if (after) {
    const k = keysetAfter(key, after, q);
    clauses.push(`(${k.condition})`);
    bindings.push(...k.bindings);
  }
  return { clauses, bindings };
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
  options: { batchSize: number; after?: Row | null; range?: KeyRange },
): AsyncGenerator<Row[]> {
  if (!layout.present) return;
  const { table } = layout;
  const q = dialect.quote;
  const select = `SELECT ${layout.columns.map(q).join(', ')} FROM ${q(table.name)}`;
  const order = ` ORDER BY ${table.key.map(q).join(', ')} LIMIT ${options.batchSize}`;
  // Columns this database lacks, resolved once rather than per row.
  const missing = Object.entries(table.defaults).filter(([c]) => !layout.columns.includes(c));
  let after = options.after ?? null;
  for (;;) {
    const { clauses, bindings } = pageCondition(table.key, options.range, after, q);
    const where = clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : '';
    const rows = dialect.rows<Row>(
      await conn.raw(`${select}${where}${order}`, bindings as Knex.RawBinding[]),
    );
    if (rows.length === 0) return;
    if (missing.length > 0) for (const row of rows) for (const [c, v] of missing) row[c] = v;
    await yieldToEventLoop();
    yield rows;
    if (rows.length < options.batchSize) return;
    after = rows[rows.length - 1]!;
  }
}

/** `(k1, k2) > (a, b)`, spelled out so every engine uses the index. */
export function keysetAfter(
  key: readonly string[],
  after: Row,
  q: (s: string) => string,
): { condition: string; bindings: unknown[] } {
  const clauses: string[] = [];
  const bindings: unknown[] = [];
  key.forEach((k, i) => {
    const eq = key.slice(0, i).map((p) => `${q(p)} = ?`);
    clauses.push(`(${[...eq, `${q(k)} > ?`].join(' AND ')})`);
    for (const p of key.slice(0, i)) bindings.push(after[p]);
    bindings.push(after[k]);
  });
  return { condition: clauses.join(' OR '), bindings };
}

/** The row with the greatest key (within `range`, if given), or null when there is none. */
export async function lastKey(
  conn: Knex,
  dialect: Dialect,
  table: CopyTable,
  range?: KeyRange,
): Promise<Row | null> {
  const q = dialect.quote;
  const inRange = rangeCondition(table.key, range, q);
  const where = inRange.clauses.length > 0 ? ` WHERE ${inRange.clauses.join(' AND ')}` : '';
  const rows = dialect.rows<Row>(
    await conn.raw(
      `SELECT ${table.key.map(q).join(', ')} FROM ${q(table.name)}${where} ORDER BY ${table.key.map((k) => `${q(k)} DESC`).join(', ')} LIMIT 1`,
      inRange.bindings as Knex.RawBinding[],
    ),
  );
  return rows[0] ?? null;
}

/** COUNT(*) of a table (within `range`, if given). */
export async function countRows(
  conn: Knex,
  dialect: Dialect,
  table: string,
  range?: { key: string; range: KeyRange },
): Promise<number> {
  const q = dialect.quote;
  const inRange = range
    ? rangeCondition([range.key], range.range, q)
    : { clauses: [], bindings: [] };
  const where = inRange.clauses.length > 0 ? ` WHERE ${inRange.clauses.join(' AND ')}` : '';
  const [row] = dialect.rows<{ n: number | string }>(
    await conn.raw(
      `SELECT COUNT(*) AS n FROM ${q(table)}${where}`,
      inRange.bindings as Knex.RawBinding[],
    ),
  );
  return Number(row?.n ?? 0);
}

/**
 * Splits the keys of a single-integer-key table into `parts` slices of about
 * equal width between its smallest and greatest key (ids are dense enough in
 * practice that equal widths are about equal row counts). Open at both ends,
 * so rows outside [min, max] still belong to a slice.
 */
export function splitKeyRange(min: number, max: number, parts: number): KeyRange[] {
  const n = Math.max(1, Math.min(parts, max - min + 1));
  if (n === 1) return [{ above: null, upTo: null }];
  const width = (max - min + 1) / n;
  const bounds = Array.from({ length: n - 1 }, (_, i) => min - 1 + Math.round(width * (i + 1)));
  return bounds
    .map((b, i): KeyRange => ({ above: i === 0 ? null : bounds[i - 1]!, upTo: b }))
    .concat([{ above: bounds[n - 2]!, upTo: null }]);
}
