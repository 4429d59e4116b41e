/**
 * The COPY-stream path (PostgreSQL to PostgreSQL): each key range travels
 * as PostgreSQL's own COPY text, `COPY (SELECT …) TO STDOUT` on the source
 * piped into `COPY … FROM STDIN` on the target, in committed chunks of
 * `--batch-size` rows. Node passes bytes and hashes them as they go by; no
 * row is parsed, built or hashed one by one.
 *
 * It keeps what the row path guarantees: a chunk commits whole, a killed
 * run resumes after the greatest key the target holds in the range, and
 * every row is verified: the target's COPY text of the same range, in the
 * same order, must hash to what the source's did (both servers print the
 * same text for the same values). A range that resumed has no whole-range
 * hash, and is compared row by row instead.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Dialect, StreamCopy } from '../db/dialect/dialect.js';
import { keyText } from './checksum.js';
import type { CopiedSlice, FastUnitOptions } from './copy.js';
import { lastKey, pageCondition, type KeyRange, type TableLayout } from './reader.js';
import { sourceValues, whereClause } from './server-side.js';

/** How a stream hash's text starts (COPY streams, and rows loaded as COPY text). */
export const STREAM_HASH_PREFIX = 'copy-sha1:';

/** One side of a streamed copy or its verification. */
export interface StreamSide {
  conn: Knex;
  dialect: Dialect;
  layout: TableLayout;
  streamCopy: StreamCopy;
}

/** Combines slices' stream hashes, in key order (each slice's text is hashed in key order too). */
export function combineStreamChecksums(checksums: readonly string[]): string {
  if (checksums.length === 1) return checksums[0]!;
  return `${STREAM_HASH_PREFIX}${createHash('sha1').update(checksums.join(',')).digest('hex')}`;
}

/**
 * The SELECT whose COPY text is hashed: placement's columns in placement's
 * order (the source's defaults where nova_api lacks a column), in key
 * order, inside `range` and after `after`. COPY takes no parameters, so the
 * values are written into the statement by the driver's own escaping.
 */
function selectText(
  side: { conn: Knex; dialect: Dialect; layout: TableLayout },
  source: boolean,
  range: KeyRange | null,
  after: Record<string, unknown> | null,
  limit: number | null,
): string {
  const q = side.dialect.quote;
  const { table } = side.layout;
  const values = source
    ? sourceValues(side.layout, q)
    : { sql: table.columns.map((c) => `s.${q(c)}`), bindings: [] as unknown[] };
  const page = pageCondition(table.key, range ?? undefined, after, (c) => `s.${q(c)}`);
  const order = ` ORDER BY ${table.key.map((k) => `s.${q(k)}`).join(', ')}${limit ? ` LIMIT ${limit}` : ''}`;
  const sql = `SELECT ${values.sql.join(', ')} FROM ${q(table.name)} s${whereClause(page.clauses)}${order}`;
  return side.conn.raw(sql, [...values.bindings, ...page.bindings] as Knex.RawBinding[]).toQuery();
}

/**
 * Copies one table, or one key range of it, as COPY text in chunks of
 * `batchSize` rows, each committed on its own, after the greatest key the
 * target holds in the range. Reads the source on its snapshot connection.
 */
export async function copyUnitStreamed(
  source: StreamSide,
  target: { conn: Knex; dialect: Dialect },
  range: KeyRange | null,
  options: FastUnitOptions,
): Promise<CopiedSlice> {
  const { table } = source.layout;
  let after = await lastKey(target.conn, target.dialect, table, range ?? undefined);
  const resumedAfter = after ? keyText(table, after) : null;
  options.onStart?.(resumedAfter);
  const hash = after ? null : createHash('sha1');
  const tap = hash ? (chunk: Buffer) => void hash.update(chunk) : () => undefined;
  const into = { table: table.name, columns: table.columns };
  let rows = 0;
  for (;;) {
    if (options.stopped?.()) break;
    const select = selectText(source, true, range, after, options.batchSize);
    const written = await source.streamCopy.pipe(source.conn, select, target.conn, into, tap);
    rows += written;
    options.onRows?.(written);
    if (written < options.batchSize) break;
    after = await lastKey(target.conn, target.dialect, table, range ?? undefined);
  }
  const whole = hash !== null && !options.stopped?.();
  return {
    range,
    rows,
    resumedAfter,
    sourceChecksum: whole ? `${STREAM_HASH_PREFIX}${hash.digest('hex')}` : null,
    sourceRows: whole ? rows : 0,
    method: 'copy-stream',
  };
}

/** The hash of the target's COPY text of `range`, as copyUnitStreamed hashed the source's. */
export async function targetStreamChecksum(
  target: StreamSide,
  range: KeyRange | null,
): Promise<{ rows: number; checksum: string }> {
  const hash = createHash('sha1');
  const select = selectText(target, false, range, null, null);
  const rows = await target.streamCopy.read(
    target.conn,
    select,
    (chunk) => void hash.update(chunk),
  );
  return { rows, checksum: `${STREAM_HASH_PREFIX}${hash.digest('hex')}` };
}
