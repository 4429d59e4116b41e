import type { BatchSplitter } from './write-set.js';
import type { Knex } from 'knex';
import type { Dialect, StreamCopy } from '../db/dialect/dialect.js';
import { ignoreProgress, type ProgressListener } from '../progress/events.js';
import { combineChecksums, keyText, TableChecksum } from './checksum.js';
import { lastKey, readBatches, type KeyRange, type Row, type TableLayout } from './reader.js';
import { combineServerChecksums } from './server-side.js';
import { combineStreamChecksums, STREAM_HASH_PREFIX } from './stream-copy.js';
import { createHash } from 'node:crypto';

export interface CopyResult {
  table: string;
  /** Rows written by this run. */
  rows: number;
  /**
   * Checksum of every source row, computed while copying, when this run
   * copied the whole table (not when it resumed an earlier run's); with
   * slices, a checksum over the slices' checksums in key order.
   */
  sourceChecksum: string | null;
  sourceRows: number;
  /** The slices the table was copied in, each with its own checksum (one slice: the whole table). */
  slices: CopiedSlice[];
  /** Key after which this run resumed an earlier one, if it did (the first slice that resumed). */
  resumedAfter: string | null;
  /**
   * How the rows travelled: through placement-upgrade (checksums of
   * canonical rows, row-hash.ts), or inside the server (INSERT … SELECT,
   * checksums the server computed: server-side.ts; the whole range's, even
   * when resumed), or as COPY text between two PostgreSQL servers (hashes of
   * that text: stream-copy.ts), or through placement-upgrade written as
   * COPY text, the text hashed as it was loaded (copy-text: verified as
   * COPY streams are).
   */
  method: CopyMethod;
  ms: number;
}

export interface CopiedSlice {
  range: KeyRange | null;
  rows: number;
  sourceRows: number;
  sourceChecksum: string | null;
  resumedAfter: string | null;
  method: CopyMethod;
}

/** How a unit's rows travelled (see CopyResult.method). */
export type CopyMethod = 'rows' | 'server-side' | 'copy-stream' | 'copy-text';

/** What the copy loop hands a unit's copier: its progress callbacks and the stop flag. */
export interface UnitHooks {
  /** Hears where the unit starts: after the greatest key the target holds, or null. */
  onStart: (resumedAfter: string | null) => void;
  /** Hears of every batch written. */
  onRows: (n: number) => void;
  /** Checked before every batch: true stops the copy (another writer failed). */
  stopped: () => boolean;
  /** Hears of a batch written again (a line of output). */
  onRetry: (message: string) => void;
}

/** A fast path's options for one unit (server-side, COPY stream): the batch and the loop's hooks. */
export type FastUnitOptions = { batchSize: number } & Partial<UnitHooks>;

/** How a unit's source reads: its connection (inside the run's snapshot), dialect and layout. */
export interface SourceSide {
  conn: Knex;
  dialect: Dialect;
  layout: TableLayout;
}

/**
 * A copy strategy for one unit: the rows through Node (rowCopier), inside
 * the server (server-side.ts) or as COPY streams (stream-copy.ts). The copy
 * loop hands it the unit's source side and hooks; the target is its own.
 */
export type UnitCopier = (
  source: SourceSide,
  range: KeyRange | null,
  hooks: UnitHooks,
) => Promise<CopiedSlice>;

/** The row path as a UnitCopier: copyUnit into `target`, with `options`. */
export function rowCopier(
  target: { conn: Knex; dialect: Dialect },
  options: CopyOptions,
): UnitCopier {
  return (source, range, hooks) => copyUnit(source, target, range, { ...options, ...hooks });
}

/** One table, or one slice of a large one: what a single writer copies. */
export interface CopyUnit {
  table: string;
  range: KeyRange | null;
}

export interface CopyOptions {
  batchSize: number;
  /** Cuts a batch into pieces that fit the target's write sets (Galera); one piece otherwise. */
  split?: BatchSplitter;
  /** Changes a source row before it is written (orphan references set NULL …), or drops it (null). */
  transform?: (row: Row) => Row | null;
  /**
   * Writes the batches as this COPY text and hashes that text instead of
   * the rows (a PostgreSQL target, rows unchanged on their way): the target
   * prints the same text back, so verifying reads no row into Node.
   */
  copyText?: Pick<StreamCopy, 'encodeRows' | 'load'>;
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
 * Copies one table, or one key range of it, in key order, in batches that
 * each commit on their own (one multi-row INSERT each, sized under the
 * engine's bind limit and Galera's write-set limits). Resumes after the
 * greatest key already in the target (within the range), so a killed run
 * loses nothing and duplicates nothing. `onRows` hears of every batch read.
 */
export async function copyUnit(
  source: SourceSide,
  target: { conn: Knex; dialect: Dialect },
  range: KeyRange | null,
  options: CopyOptions & Partial<UnitHooks>,
): Promise<CopiedSlice> {
  const { table } = source.layout;
  const after = await lastKey(target.conn, target.dialect, table, range ?? undefined);
  const resumedAfter = after ? keyText(table, after) : null;
  options.onStart?.(resumedAfter);

  const columns = table.columns;
  const truncateTimestamps = target.dialect.timestampFractionDigits === 0;
  const timestampColumns = columns.filter((c) => table.kinds[c] === 'datetime');

  // Hashing the rows as they stream by saves reading the source again to
  // verify; as COPY text, the target's verification reads no row either.
  const { copyText } = options;
  const checksum = after || copyText ? null : new TableChecksum(table);
  const textHash = after || !copyText ? null : createHash('sha1');
  let rows = 0;
  const batches = readBatches(source.conn, source.dialect, source.layout, {
    batchSize: options.batchSize,
    after,
    range: range ?? undefined,
  });
  for await (const batch of prefetch(batches)) {
    if (options.stopped?.()) break;
    const values: unknown[][] = [];
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
      values.push(columns.map((c) => row[c] ?? null));
    }
    if (values.length > 0) {
      for (const piece of options.split ? options.split(values) : [values]) {
        let write = () => target.dialect.insertRows(target.conn, table.name, table.columns, piece);
        if (copyText) {
          const text = copyText.encodeRows(piece);
          textHash?.update(text);
          write = () =>
            copyText.load(target.conn, { table: table.name, columns: table.columns }, text);
        }
        await writeBatch(target, table, piece, write, options.onRetry);
      }
    }
    rows += values.length;
    options.onRows?.(batch.length);
  }
  const sourceChecksum = textHash
    ? `${STREAM_HASH_PREFIX}${textHash.digest('hex')}`
    : (checksum?.digest() ?? null);
  return {
    range,
    rows,
    resumedAfter,
    sourceChecksum,
    sourceRows: textHash ? rows : (checksum?.rows ?? 0),
    method: copyText ? 'copy-text' : 'rows',
  };
}

/** How long a batch is written again before its error ends the copy. */
const RETRY_FOR_MS = 60_000;

/**
 * Writes one batch (it commits on its own), again after a failure that says
 * "try again": a conflicting transaction (a deadlock, a Galera certification
 * failure) or a Galera node outside the Primary Component for a moment.
 *
 * A failed COMMIT does not always mean nothing was committed: a Galera node
 * that leaves the Primary Component while its write set is being ordered
 * answers with an error although the cluster applied the transaction. So
 * before writing a batch again, the target is asked for the batch's first
 * row: a transaction commits whole, and this unit alone writes its key range,
 * so that row being there means the earlier attempt landed. (Verification
 * compares every row afterwards either way.)
 */
async function writeBatch(
  target: { conn: Knex; dialect: Dialect },
  table: { name: string; columns: readonly string[]; key: readonly string[] },
  values: unknown[][],
  write: () => Promise<void>,
  onRetry?: (message: string) => void,
): Promise<void> {
  await writeAgainWhileTransient(
    target.dialect,
    { table: table.name, batch: `the batch of ${values.length} rows`, verb: 'writing' },
    {
      write,
      landed: async () => ((await rowExists(target, table, values[0]!)) ? undefined : null),
    },
    onRetry,
  );
}

/**
 * Runs a batch's `write`, again after a failure that says "try again" (a
 * conflicting transaction, a Galera node outside the Primary Component for
 * a moment), backing off from 0.25 s to 8 s for up to RETRY_FOR_MS, with a
 * line of output each time; then the error stands. Before each new attempt
 * `landed` tells whether the failed one committed after all (its result,
 * or null when it did not).
 */
export async function writeAgainWhileTransient<T>(
  dialect: Dialect,
  what: { table: string; batch: string; verb: string },
  attempt: { write: () => Promise<T>; landed: () => Promise<T | null> },
  onRetry?: (message: string) => void,
): Promise<T> {
  const started = Date.now();
  for (let n = 1; ; n++) {
    try {
      if (n > 1) {
        const landed = await attempt.landed();
        if (landed !== null) {
          onRetry?.(
            `${what.table}: the earlier attempt at ${what.batch} had committed after all; going on.`,
          );
          return landed;
        }
      }
      return await attempt.write();
    } catch (err) {
      const fault = dialect.clusterFault(err);
      const again = fault?.kind === 'not_primary' || dialect.isTransientConflict(err);
      if (!again || Date.now() - started > RETRY_FOR_MS) throw err;
      const wait = Math.min(8000, 250 * 2 ** (n - 1));
      onRetry?.(
        `${what.table}: ${fault ? 'the Galera node is outside the Primary Component' : 'a conflicting write (a deadlock or a Galera certification failure)'}; ${what.verb} ${what.batch} again in ${wait / 1000} s (attempt ${n + 1}).`,
      );
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Whether the target holds a row with the key of `row` (values in `table.columns` order). */
async function rowExists(
  target: { conn: Knex; dialect: Dialect },
  table: { name: string; columns: readonly string[]; key: readonly string[] },
  row: readonly unknown[],
): Promise<boolean> {
  const q = target.dialect.quote;
  const bindings = table.key.map((k) => row[table.columns.indexOf(k)]);
  const where = table.key.map((k) => `${q(k)} = ?`).join(' AND ');
  const found = target.dialect.rows(
    await target.conn.raw(
      `SELECT 1 AS found FROM ${q(table.name)} WHERE ${where}`,
      bindings as Knex.RawBinding[],
    ),
  );
  return found.length > 0;
}

export interface CopyTablesOptions {
  /** Units copied at once, each on its own target connection (1: one after another). */
  parallel: number;
  /** Rows each table has in the source (progress only). */
  totals: Record<string, number>;
  /** Tables whose every unit must be finished before a unit of `table` starts (foreign keys). */
  dependsOn: (table: string) => readonly string[];
  /** Called once a table's every unit is copied (while other tables may still be copying). */
  onTableDone?: (table: string) => void;
  onProgress?: ProgressListener;
  /** The strategy that copies a table's units. */
  copierFor: (table: string) => UnitCopier;
  /** Runs a unit's copy with its table's source side, on a free reader of the snapshot. */
  withSource: <T>(table: string, work: (source: SourceSide) => Promise<T>) => Promise<T>;
}

/**
 * Copies `units` with up to `parallel` writers at a time, never starting a
 * unit before the tables it references are complete, largest first, each
 * by its table's strategy. Source reads go where `withSource` puts them
 * (readers of the one snapshot); writes to the target pool, which must
 * allow `parallel` connections. Progress is reported per table (a table's
 * slices add up), so renderers need not know about slices.
 */
export async function copyTables(
  units: readonly CopyUnit[],
  options: CopyTablesOptions,
): Promise<CopyResult[]> {
  const progress = options.onProgress ?? ignoreProgress;
  const tables = [...new Set(units.map((u) => u.table))];
  const state = new Map(
    tables.map((t) => [
      t,
      {
        left: units.filter((u) => u.table === t).length,
        started: 0,
        done: 0,
        startedAt: 0,
        ms: 0,
        slices: [] as (CopiedSlice & { order: number })[],
      },
    ]),
  );
  const queue = units.map((u, order) => ({ ...u, order }));
  const ready = (u: CopyUnit) =>
    options.dependsOn(u.table).every((d) => (state.get(d)?.left ?? 0) === 0);

  let failure: unknown = null;
  const runOne = async (unit: CopyUnit & { order: number }): Promise<void> => {
    const s = state.get(unit.table)!;
    const total = options.totals[unit.table] ?? 0;
    const first = s.started === 0;
    s.started += 1;
    if (first) s.startedAt = performance.now();
    const hooks = {
      onStart: (resumedAfter: string | null) => {
        if (first) {
          progress({
            type: 'table-start',
            phase: 'copy',
            table: unit.table,
            total,
            resumedAfter: resumedAfter ?? undefined,
          });
        }
      },
      stopped: () => failure !== null,
      onRetry: (message: string) => progress({ type: 'warning', message }),
      onRows: (n: number) => {
        s.done += n;
        progress({ type: 'table-progress', phase: 'copy', table: unit.table, done: s.done, total });
      },
    };
    const copier = options.copierFor(unit.table);
    const slice = await options.withSource(unit.table, (source) =>
      copier(source, unit.range, hooks),
    );
    s.slices.push({ ...slice, order: unit.order });
    s.left -= 1;
    if (s.left === 0) {
      s.ms = Math.round(performance.now() - s.startedAt);
      const rows = s.slices.reduce((a, x) => a + x.rows, 0);
      progress({ type: 'table-done', phase: 'copy', table: unit.table, rows, ms: s.ms, ok: true });
      options.onTableDone?.(unit.table);
    }
  };

  const running = new Set<Promise<void>>();
  while ((queue.length > 0 || running.size > 0) && failure === null) {
    const i = running.size < Math.max(1, options.parallel) ? queue.findIndex(ready) : -1;
    if (i >= 0) {
      const [unit] = queue.splice(i, 1);
      const p: Promise<void> = runOne(unit!).then(
        () => void running.delete(p),
        (err: unknown) => {
          running.delete(p);
          failure ??= err;
        },
      );
      running.add(p);
      continue;
    }
    if (running.size === 0) throw new Error('copy units wait on each other: a foreign key cycle');
    await Promise.race(running);
  }
  // Let the other writers stop before reporting the first failure.
  await Promise.allSettled([...running]);
  if (failure !== null) throw failure;

  return tables.map((t) => {
    const s = state.get(t)!;
    const slices = [...s.slices].sort((a, b) => a.order - b.order).map(({ order: _o, ...x }) => x);
    const whole = slices.every((x) => x.sourceChecksum !== null);
    const first = slices[0]?.method ?? 'rows';
    const method: CopyMethod = slices.every((x) => x.method === first) ? first : 'rows';
    const combine =
      method === 'server-side'
        ? combineServerChecksums
        : method === 'copy-stream' || method === 'copy-text'
          ? combineStreamChecksums
          : combineChecksums;
    return {
      table: t,
      rows: slices.reduce((a, x) => a + x.rows, 0),
      sourceRows: whole ? slices.reduce((a, x) => a + x.sourceRows, 0) : 0,
      sourceChecksum: whole ? combine(slices.map((x) => x.sourceChecksum!)) : null,
      slices,
      resumedAfter: slices.find((x) => x.resumedAfter !== null)?.resumedAfter ?? null,
      method,
      ms: s.ms,
    };
  });
}
