import type { Knex } from 'knex';
import type { Dialect } from '../db/dialect/dialect.js';
import { ignoreProgress, type ProgressListener } from '../progress/events.js';
import { canonicalRow, combineChecksums, keyText, TableChecksum } from './checksum.js';
import { readBatches, type KeyRange, type Row, type TableLayout } from './reader.js';
import { mapLimited } from '../util/map-limited.js';

/** One side of a comparison: a connection and how the table looks there. */
export interface Side {
  conn: Knex;
  dialect: Dialect;
  layout: TableLayout;
}

export interface Difference {
  key: string;
  kind: 'missing-in-target' | 'extra-in-target' | 'changed';
  source?: string;
  target?: string;
}

export interface TableComparison {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: string;
  targetChecksum: string;
  equal: boolean;
  /** The first differences in key order (all of them up to `maxDifferences`). */
  differences: Difference[];
  differenceCount: number;
  /** Target rows accepted as the online data migrations' or placement's own additions. */
  toleratedExtras: number;
}

/**
 * Rules for rows that may legitimately differ once the online data
 * migrations ran or placement started: rows are normalised on both sides,
 * and some target-only rows are accepted.
 */
export interface Tolerance {
  normalise?: (row: Row) => Row;
  acceptExtra?: (row: Row) => boolean;
  /** Source rows deliberately left behind (--skip-orphans). */
  acceptMissing?: (row: Row) => boolean;
}

function compareKeys(key: readonly string[], a: Row, b: Row): number {
  for (const k of key) {
    const x = Number(a[k]);
    const y = Number(b[k]);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Pulls rows one at a time out of a batched reader. */
class Cursor {
  private batch: Row[] = [];
  private index = 0;
  private done = false;
  constructor(private readonly batches: AsyncGenerator<Row[]>) {}
  async peek(): Promise<Row | undefined> {
    while (this.index >= this.batch.length && !this.done) {
      const next = await this.batches.next();
      if (next.done) this.done = true;
      else {
        this.batch = next.value;
        this.index = 0;
      }
    }
    return this.batch[this.index];
  }
  async take(): Promise<Row | undefined> {
    const row = await this.peek();
    this.index += 1;
    return row;
  }
}

/**
 * Compares a table on both sides in one ordered pass each (a merge join on
 * the key), computing both checksums and the first differing keys together.
 * Memory stays at two batches whatever the table's size.
 */
export async function compareTable(
  source: Side,
  target: Side,
  options: {
    batchSize: number;
    maxDifferences: number;
    tolerance?: Tolerance;
    onProgress?: ProgressListener;
    total?: number;
  },
): Promise<TableComparison> {
  const table = source.layout.table;
  const progress = options.onProgress ?? ignoreProgress;
  const normalise = options.tolerance?.normalise ?? ((r: Row) => r);
  const acceptExtra = options.tolerance?.acceptExtra ?? (() => false);
  const acceptMissing = options.tolerance?.acceptMissing ?? (() => false);
  const s = new Cursor(
    readBatches(source.conn, source.dialect, source.layout, { batchSize: options.batchSize }),
  );
  const t = new Cursor(
    readBatches(target.conn, target.dialect, target.layout, { batchSize: options.batchSize }),
  );
  const sum = { source: new TableChecksum(table), target: new TableChecksum(table) };
  const differences: Difference[] = [];
  let differenceCount = 0;
  let toleratedExtras = 0;
  let done = 0;
  const started = performance.now();
  const differ = (d: Difference) => {
    differenceCount += 1;
    if (differences.length < options.maxDifferences) differences.push(d);
  };
  progress({ type: 'table-start', phase: 'verify', table: table.name, total: options.total ?? 0 });
  for (;;) {
    const a = await s.peek();
    const b = await t.peek();
    if (!a && !b) break;
    const order = !a ? 1 : !b ? -1 : compareKeys(table.key, a, b);
    if (order < 0) {
      await s.take();
      const row = normalise(a!);
      if (!acceptMissing(row)) {
        sum.source.add(row);
        differ({
          key: keyText(table, row),
          kind: 'missing-in-target',
          source: canonicalRow(table, row),
        });
      }
    } else if (order > 0) {
      await t.take();
      const row = normalise(b!);
      if (acceptExtra(row)) toleratedExtras += 1;
      else {
        sum.target.add(row);
        differ({
          key: keyText(table, row),
          kind: 'extra-in-target',
          target: canonicalRow(table, row),
        });
      }
    } else {
      await s.take();
      await t.take();
      const x = normalise(a!);
      const y = normalise(b!);
      sum.source.add(x);
      sum.target.add(y);
      const cx = canonicalRow(table, x);
      const cy = canonicalRow(table, y);
      if (cx !== cy) differ({ key: keyText(table, x), kind: 'changed', source: cx, target: cy });
    }
    done += 1;
    if (done % 50_000 === 0) {
      progress({
        type: 'table-progress',
        phase: 'verify',
        table: table.name,
        done,
        total: options.total ?? done,
      });
    }
  }
  progress({
    type: 'table-done',
    phase: 'verify',
    table: table.name,
    rows: done,
    ms: Math.round(performance.now() - started),
    ok: differenceCount === 0,
  });
  return {
    table: table.name,
    sourceRows: sum.source.rows,
    targetRows: sum.target.rows + toleratedExtras,
    sourceChecksum: sum.source.digest(),
    targetChecksum: sum.target.digest(),
    equal: differenceCount === 0,
    differences,
    differenceCount,
    toleratedExtras,
  };
}

/**
 * Reads one side in key order and returns its row count and checksum: the
 * cheap half of a verification whose other half was computed while copying.
 * With several key ranges (the slices a large table was copied in), reads up
 * to `parallel` of them at once and returns each one's figures in order.
 */
export async function checksumSide(
  side: Side,
  options: {
    batchSize: number;
    onProgress?: ProgressListener;
    total?: number;
    ranges?: readonly (KeyRange | null)[];
    parallel?: number;
  },
): Promise<{ rows: number; checksum: string; slices: { rows: number; checksum: string }[] }> {
  const progress = options.onProgress ?? ignoreProgress;
  const table = side.layout.table;
  const ranges = options.ranges ?? [null];
  const started = performance.now();
  let seen = 0;
  progress({ type: 'table-start', phase: 'verify', table: table.name, total: options.total ?? 0 });
  const one = async (range: KeyRange | null) => {
    const sum = new TableChecksum(table);
    for await (const batch of readBatches(side.conn, side.dialect, side.layout, {
      batchSize: options.batchSize,
      range: range ?? undefined,
    })) {
      for (const row of batch) sum.add(row);
      seen += batch.length;
      progress({
        type: 'table-progress',
        phase: 'verify',
        table: table.name,
        done: seen,
        total: options.total ?? seen,
      });
    }
    return { rows: sum.rows, checksum: sum.digest() };
  };
  const slices = await mapLimited(ranges, Math.max(1, options.parallel ?? 1), one);
  const rows = slices.reduce((a, s) => a + s.rows, 0);
  progress({
    type: 'table-done',
    phase: 'verify',
    table: table.name,
    rows,
    ms: Math.round(performance.now() - started),
    ok: true,
  });
  return { rows, checksum: combineChecksums(slices.map((s) => s.checksum)), slices };
}
