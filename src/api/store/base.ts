/**
 * What every per-resource store shares: one connection or transaction to
 * run on, the engine's dialect, and the conversions from driver values.
 * Reads guard their bindings (isStorable); writes are handed values the
 * request schemas have already bounded.
 */
import type { Knex } from 'knex';
import type { Database } from '../../db/connect.js';
import { placeholderList } from '../../db/dialect/dialect.js';
import { utcTimestamp } from '../../db/timestamps.js';

/** A timestamp as the driver returned it (text, or a number from SQLite). */
export type DbTime = string | number | Date | null;

/** placement's MAX_INT (db/constants.py): its integer columns are 32-bit INTs on every engine. */
export const MAX_INT = 0x7fffffff;
const MIN_INT = -0x80000000;

/**
 * Whether a value from a request could equal something placement stores:
 * text without NUL (PostgreSQL's text types cannot hold U+0000, so placement
 * data, which moves between engines, never holds it) and integers an INT
 * column holds. Anything else matches no row on any engine.
 */
export function isStorable(value: unknown): boolean {
  if (typeof value === 'string') return !value.includes('\u0000');
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= MIN_INT && value <= MAX_INT;
  return true;
}

export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
export const numOrNull = (v: unknown): number | null =>
  v === null || v === undefined ? null : num(v);
/** `?, ?, …`: `n` bind placeholders (the dialects' own helper). */
export const placeholders = placeholderList;

/**
 * The integers of Access.integers' packed text ("1,2;3,4"), or null when
 * there are not `expected` of them (the text was cut short).
 */
export function parseIntegers(text: string, expected: number): number[] | null {
  const out = new Array<number>(expected);
  let n = 0;
  let value = 0;
  let negative = false;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 59;
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 45 && digits === 0) {
      negative = true;
    } else if ((c === 44 || c === 59) && digits > 0) {
      if (n === expected) return null;
      out[n++] = negative ? -value : value;
      value = 0;
      digits = 0;
      negative = false;
    } else {
      return null;
    }
  }
  return n === expected ? out : null;
}

/** A row of resource_classes, traits or consumer_types. */
export interface NamedRow {
  id: number;
  name: string;
  updated_at: DbTime;
  created_at: DbTime;
}

export function namedRow(r: Record<string, unknown>): NamedRow {
  return {
    id: num(r['id']),
    name: String(r['name']),
    updated_at: r['updated_at'] as DbTime,
    created_at: r['created_at'] as DbTime,
  };
}

/** Facts about the schema, found once per server: they change only with `db sync`, never with data. */
export class SchemaFacts {
  private consumerTypesPresent: Promise<boolean> | undefined;

  constructor(private readonly db: Database) {}

  /** Whether the schema has consumer_types (revision 422ece571366, Xena, and later). */
  hasConsumerTypes(): Promise<boolean> {
    this.consumerTypesPresent ??= this.db.dialect
      .listTables(this.db.knex)
      .then((tables) => tables.includes('consumer_types'));
    return this.consumerTypesPresent;
  }
}

/** One connection's (or one transaction's) access to the placement tables. */
export class Access {
  constructor(
    readonly db: Database,
    /** The pool, or the transaction every statement of a write runs in. */
    readonly knex: Knex,
    readonly schema: SchemaFacts,
  ) {}

  /**
   * Every read is a conjunction of filters, so a binding that no engine
   * can store (isStorable) matches no row: the engine is not asked.
   * PostgreSQL would fail on it (a NUL, an amount beyond its INT) where
   * MariaDB and SQLite find nothing, which is what placement answers there.
   * Methods binding a list (IN) keep only its storable values first.
   */
  async rows(sql: string, bindings: readonly unknown[] = []): Promise<Record<string, unknown>[]> {
    if (!bindings.every(isStorable)) return [];
    return this.db.dialect.rows<Record<string, unknown>>(
      await this.knex.raw(sql, bindings as Knex.RawBinding[]),
    );
  }

  /**
   * The integer columns `columns` (never NULL) of the rows of `sql`, flat:
   * `columns.length` values a row. The server packs them into one text
   * value (Dialect.packIntegersSql), so ten thousand rows cost one row on
   * the wire and one string to split, not ten thousand rows to parse. Should
   * the packed text come back cut short or not at all (MySQL's
   * group_concat_max_len, max_allowed_packet), the count tells, and the rows
   * are read one by one instead.
   */
  async integers(
    sql: string,
    columns: readonly string[],
    bindings: readonly unknown[] = [],
  ): Promise<number[]> {
    const dialect = this.db.dialect;
    const packed = dialect.packIntegersSql(columns.map((c) => `packed_rows.${c}`));
    const [row] = await this.rows(
      `SELECT COUNT(*) AS n, ${packed} AS packed FROM (${sql}) packed_rows`,
      bindings,
    );
    const count = num(row?.['n'] ?? 0);
    const text = row?.['packed'];
    if (count === 0) return [];
    // NULL with rows: MySQL's packed value outgrew max_allowed_packet.
    const values = typeof text === 'string' ? parseIntegers(text, count * columns.length) : null;
    if (values !== null) return values;
    const rows = await this.rows(sql, bindings);
    return rows.flatMap((r) => columns.map((c) => num(r[c])));
  }

  /**
   * As integers(), for columns that may be text or floats: every row's
   * fields as text, or null when the engine packs no float exactly
   * (Dialect.exactFloatTextSql) or the packed value does not split into
   * exactly the rows and fields counted (cut short, or a value holding a
   * separator): the caller then reads the rows.
   */
  async packedText(
    sql: string,
    columns: readonly { name: string; float?: boolean }[],
    bindings: readonly unknown[] = [],
  ): Promise<string[][] | null> {
    const dialect = this.db.dialect;
    const exprs: string[] = [];
    for (const c of columns) {
      const expr = c.float
        ? dialect.exactFloatTextSql(`packed_rows.${c.name}`)
        : `packed_rows.${c.name}`;
      if (expr === null) return null;
      exprs.push(expr);
    }
    const [row] = await this.rows(
      `SELECT COUNT(*) AS n, ${dialect.packTextSql(exprs)} AS packed FROM (${sql}) packed_rows`,
      bindings,
    );
    const count = num(row?.['n'] ?? 0);
    if (count === 0) return [];
    const text = row?.['packed'];
    if (typeof text !== 'string') return null;
    const rows = text.split(';');
    if (rows.length !== count) return null;
    const out = new Array<string[]>(count);
    for (let i = 0; i < count; i++) {
      const fields = rows[i]!.split(',');
      if (fields.length !== columns.length) return null;
      out[i] = fields;
    }
    return out;
  }

  /**
   * `column` among `ids`: the condition and its bindings, sliced where the
   * engine needs it (Dialect.maxIdList); one entry per statement to run.
   */
  idList(column: string, ids: Iterable<number>): { sql: string; bindings: unknown[] }[] {
    const dialect = this.db.dialect;
    const all = [...ids].filter(isStorable);
    const out: { sql: string; bindings: unknown[] }[] = [];
    for (let i = 0; i < all.length; i += Math.min(all.length, dialect.maxIdList)) {
      const slice = all.slice(i, i + dialect.maxIdList);
      out.push({
        sql: dialect.inIdListSql(column, slice.length),
        bindings: dialect.idListBindings(slice),
      });
    }
    return out;
  }

  /** Runs a write statement; returns how many rows it changed (the compare-and-swap's answer). */
  async run(sql: string, bindings: readonly unknown[] = []): Promise<number> {
    return this.db.dialect.affectedRows(await this.knex.raw(sql, bindings as Knex.RawBinding[]));
  }

  /** Inserts one row and returns its new id. */
  async insert(table: string, row: Record<string, unknown>): Promise<number> {
    const result: unknown = this.db.dialect.supportsReturning
      ? await this.knex(table).insert(row, ['id'])
      : await this.knex(table).insert(row);
    const first = (result as unknown[])[0];
    return num(typeof first === 'object' && first !== null ? (first as { id: unknown }).id : first);
  }

  /** The created_at/updated_at placement writes (naive UTC). */
  now(): string {
    return utcTimestamp();
  }
}
