import type { Knex } from 'knex';
import type { Dialect } from '../db/dialect/dialect.js';
import { ignoreProgress, type ProgressListener } from '../progress/events.js';
import { keyText, TableChecksum } from './checksum.js';
import { countRows, lastKey, readBatches, type Row, type TableLayout } from './reader.js';

export interface CopyResult {
  table: string;
  /** Rows written by this run. */
  rows: number;
  /**
   * Checksum of every source row, computed while copying, when this run
   * copied the whole table (not when it resumed an earlier run's).
   */
  sourceChecksum: string | null;
  sourceRows: number;
  /** Key after which this run resumed an earlier one, if it did. */
  resumedAfter: string | null;
  ms: number;
}

export interface CopyOptions {
  batchSize: number;
  /** Rows the source has in total (for progress only). */
  total: number;
  /** Changes a source row before it is written (orphan references set NULL …), or drops it (null). */
  transform?: (row: Row) => Row | null;
  onProgress?: ProgressListener;
}

/** Runs `next` (the read of the following batch) while the current batch is written. */
async function* prefetch<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  let pending = source.next();
  for (;;) {
    const current = await pending;
    if (current.done) return;
    pending = source.next();
    yield current.value;
  }
}

/**
 * Copies one table in key order, in batches that each commit on their own
 * (one multi-row INSERT each, sized under the engine's bind limit and
 * Galera's write-set limits). Resumes after the greatest key already in the
 * target, so a killed run loses nothing and duplicates nothing.
 */
export async function copyTable(
  source: { conn: Knex; dialect: Dialect; layout: TableLayout },
  target: { conn: Knex; dialect: Dialect },
  options: CopyOptions,
): Promise<CopyResult> {
  const { table } = source.layout;
  const progress = options.onProgress ?? ignoreProgress;
  const started = performance.now();
  const after = await lastKey(target.conn, target.dialect, table);
  const resumedAfter = after ? keyText(table, after) : null;
  progress({
    type: 'table-start',
    phase: 'copy',
    table: table.name,
    total: options.total,
    resumedAfter: resumedAfter ?? undefined,
  });

  const q = target.dialect.quote;
  const columns = table.columns;
  const perStatement = Math.max(
    1,
    Math.min(options.batchSize, Math.floor(target.dialect.maxBindParameters / columns.length)),
  );
  const head = `INSERT INTO ${q(table.name)} (${columns.map(q).join(', ')}) VALUES `;
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const truncateTimestamps = target.dialect.timestampFractionDigits === 0;
  const timestampColumns = columns.filter((c) => table.kinds[c] === 'datetime');

  // Hashing the rows as they stream by saves reading the source again to verify.
  const checksum = after ? null : new TableChecksum(table);
  let rows = 0;
  // Progress counts what the target holds, including an earlier run's rows.
  let seen = after ? await countRows(target.conn, target.dialect, table.name) : 0;
  const batches = readBatches(source.conn, source.dialect, source.layout, {
    batchSize: perStatement,
    after,
  });
  for await (const batch of prefetch(batches)) {
    const bindings: unknown[] = [];
    let n = 0;
    for (const original of batch) {
      checksum?.add(original);
      const row = options.transform ? options.transform(original) : original;
      if (!row) continue;
      if (truncateTimestamps) {
        for (const c of timestampColumns) {
          const v = row[c];
          if (typeof v === 'string' && v.length > 19) row[c] = v.slice(0, 19);
        }
      }
      for (const c of columns) bindings.push(row[c] ?? null);
      n += 1;
    }
    if (n > 0)
      await target.conn.raw(
        head + Array<string>(n).fill(tuple).join(', '),
        bindings as Knex.RawBinding[],
      );
    rows += n;
    seen += batch.length;
    progress({
      type: 'table-progress',
      phase: 'copy',
      table: table.name,
      done: seen,
      total: options.total,
    });
  }
  const ms = Math.round(performance.now() - started);
  progress({ type: 'table-done', phase: 'copy', table: table.name, rows, ms, ok: true });
  return {
    table: table.name,
    rows,
    resumedAfter,
    ms,
    sourceChecksum: checksum ? checksum.digest() : null,
    sourceRows: checksum ? checksum.rows : 0,
  };
}
