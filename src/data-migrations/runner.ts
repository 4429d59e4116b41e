import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import type { WriteSetLimits } from '../db/dialect/dialect.js';
import { classifyDatabaseError } from '../db/errors.js';
import { errorMessage, UsageError } from '../errors/errors.js';
import { yieldToEventLoop } from '../util/event-loop.js';
import { ignoreProgress, type ProgressListener } from '../progress/events.js';
import { onlineDataMigrations } from './registry.js';
import {
  DEFAULT_INCOMPLETE_CONSUMER_ID,
  type BatchResult,
  type DataMigrationContext,
  type MigrationBatch,
  type OnlineDataMigration,
  type Unfixable,
} from './types.js';

/** placement-manage's batch size when --max-count is not given. */
export const DEFAULT_BATCH_SIZE = 50;

/** Exit codes of `online_data_migrations`, kept from placement-manage for the playbooks that test them. */
export const DataMigrationExit = {
  /** Nothing (further) can be migrated. */
  COMPLETE: 0,
  /** With --max-count: some rows were migrated, more may remain. */
  MORE_MAY_REMAIN: 1,
  /** Some migrations failed (or found rows they cannot fix) and nothing else progressed. */
  FAILED: 2,
  /** --max-count is not a positive integer. */
  BAD_MAX_COUNT: 127,
} as const;

export type DataMigrationExitCode = (typeof DataMigrationExit)[keyof typeof DataMigrationExit];

/** What a run did, as data: the text output and --json are both rendered from it. */
export interface DataMigrationRun {
  /** True with --max-count: exactly one batch ran. */
  limited: boolean;
  batchSize: number;
  batches: number;
  /** The summary table: per migration, totals over all batches (placement's "Total Found" / "Completed"). */
  migrations: { name: string; found: number; done: number }[];
  /** Every failure of every batch, in order. */
  errors: { migration: string; batch: number; message: string }[];
  /** Rows that need a human, as the last batch saw them. */
  unfixable: ({ migration: string } & Unfixable)[];
  /** True when the last batch had failures or unfixable rows (placement: "Some migrations failed"). */
  failed: boolean;
  exitCode: DataMigrationExitCode;
}

/**
 * Rows the online data migrations would still fix: providers without a root,
 * and consumers that hold allocations but have no consumers row (what the
 * Train blockers refuse). Cheap enough for a plan.
 */
export async function countOnlineMigrationRows(db: Knex): Promise<number> {
  const roots = (await db('resource_providers')
    .whereNull('root_provider_id')
    .count({ n: '*' })
    .first()) as { n: number | string } | undefined;
  const consumers = (await db('allocations as a')
    .leftJoin('consumers as c', 'c.uuid', 'a.consumer_id')
    .whereNull('c.id')
    .countDistinct({ n: 'a.consumer_id' })
    .first()) as { n: number | string } | undefined;
  return Number(roots?.n ?? 0) + Number(consumers?.n ?? 0);
}

/**
 * Parses --max-count as placement-manage does (Python's int(): surrounding
 * blanks, a sign and digit-separating underscores allowed); anything below 1
 * is refused, and so is what is not a whole number or too large to count
 * exactly, each saying which it is (all exit 127, as placement-manage's).
 */
export function parseMaxCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const hint =
    'Give --max-count a whole number of at least 1, or leave it out to run batches of 50 until complete.';
  if (!/^\s*[+-]?\d+(?:_\d+)*\s*$/.test(value)) {
    throw new UsageError(
      `--max-count must be a whole number, and "${value}" is not one (digits only, as Python's int() reads them: no exponent, decimal point or unit).`,
      hint,
    );
  }
  const n = Number(value.replace(/_/g, ''));
  if (n < 1) {
    throw new UsageError(
      `Must supply a positive value for max_count (got "${value.trim()}").`,
      hint,
    );
  }
  if (!Number.isSafeInteger(n)) {
    throw new UsageError(
      `--max-count ${value.trim()} is too large: at most ${Number.MAX_SAFE_INTEGER} rows a batch.`,
      hint,
    );
  }
  return n;
}

/** Rows a write set keeps free for what else a batch writes (a projects or users row). */
const WRITE_SET_MARGIN = 10;

/** The rows one transaction may change on this database: Infinity unless a Galera limit says less. */
function writeSetRows(limits: WriteSetLimits | null | undefined): number {
  if (!limits || limits.rows <= 0) return Infinity;
  return Math.max(1, limits.rows - WRITE_SET_MARGIN);
}

/**
 * A batch of `n` rows as transactions of at most `perTransaction` rows, as
 * placement-manage's batches of that size would run: their counts add up,
 * and it stops at the first transaction that migrated fewer than it was
 * asked (nothing left, or rows it cannot fix, which the next would find
 * again).
 */
function inWriteSets(batch: MigrationBatch, perTransaction: number): MigrationBatch {
  if (!Number.isFinite(perTransaction)) return batch;
  return async (n) => {
    const total: BatchResult = { found: 0, done: 0 };
    for (let left = n; left > 0;) {
      const ask = Math.min(left, perTransaction);
      const r = await batch(ask);
      total.found += r.found;
      total.done += r.done;
      if (r.unfixable) total.unfixable = r.unfixable;
      left -= r.done;
      if (r.done < ask) break;
    }
    return total;
  };
}

/**
 * Runs the online data migrations with placement-manage's algorithm:
 * without maxCount, batches of 50 until a batch migrates nothing; with it,
 * one batch of that size shared by the migrations in order. Each migration
 * that throws is recorded and the others still run.
 */
export async function runOnlineDataMigrations(
  database: Database,
  options: {
    maxCount?: number;
    /**
     * Rows per batch when maxCount is absent: placement-manage's 50 unless
     * said. migrate, whose target nothing else uses yet, takes larger ones.
     */
    batchSize?: number;
    incompleteConsumer?: { projectId?: string; userId?: string };
    migrations?: readonly OnlineDataMigration[];
    onProgress?: ProgressListener;
  } = {},
): Promise<DataMigrationRun> {
  const progress = options.onProgress ?? ignoreProgress;
  const limited = options.maxCount !== undefined;
  const batchSize = options.maxCount ?? options.batchSize ?? DEFAULT_BATCH_SIZE;
  const context: DataMigrationContext = {
    database,
    incompleteConsumer: {
      projectId: options.incompleteConsumer?.projectId ?? DEFAULT_INCOMPLETE_CONSUMER_ID,
      userId: options.incompleteConsumer?.userId ?? DEFAULT_INCOMPLETE_CONSUMER_ID,
    },
  };
  const migrations = options.migrations ?? (await onlineDataMigrations());
  const perWriteSet = writeSetRows(await database.dialect.writeSetLimits?.(database.knex));
  if (perWriteSet < batchSize) {
    progress({
      type: 'warning',
      message: `The database is a Galera node whose write sets hold at most ${perWriteSet + WRITE_SET_MARGIN} rows: each batch of ${batchSize} is run as several transactions of up to ${perWriteSet} rows.`,
    });
  }
  const batchOf = new Map<string, MigrationBatch>();
  const batchFor = (m: OnlineDataMigration): MigrationBatch => {
    let batch = batchOf.get(m.name);
    if (!batch) {
      batch = inWriteSets(m.start(context), perWriteSet);
      batchOf.set(m.name, batch);
    }
    return batch;
  };

  const totals = new Map<string, { found: number; done: number }>();
  const errors: DataMigrationRun['errors'] = [];
  let unfixable: DataMigrationRun['unfixable'] = [];
  let lastBatchFailed = false;
  let ran = 0;
  let batches = 0;
  do {
    await yieldToEventLoop();
    batches++;
    ran = 0;
    lastBatchFailed = false;
    unfixable = [];
    for (const migration of migrations) {
      const count = batchSize - ran;
      let found = 0;
      let done = 0;
      try {
        const result = await batchFor(migration)(count);
        found = result.found;
        done = result.done;
        if (result.unfixable) {
          unfixable.push({ migration: migration.name, ...result.unfixable });
          lastBatchFailed = true;
        }
      } catch (err) {
        // Which database and why (a lost connection, a missing grant), never a whole INSERT.
        const message =
          classifyDatabaseError(err, `running ${migration.name}`)?.message ?? errorMessage(err);
        errors.push({ migration: migration.name, batch: batches, message });
        progress({ type: 'data-migration-error', migration: migration.name, message });
        lastBatchFailed = true;
      }
      progress({ type: 'data-migration-batch', migration: migration.name, found, done });
      const total = totals.get(migration.name) ?? { found: 0, done: 0 };
      totals.set(migration.name, { found: total.found + found, done: total.done + done });
      ran += done;
      if (ran >= batchSize) break;
    }
  } while (!limited && ran !== 0);

  // As placement-manage: failures are fatal unless a limited run still made progress,
  // which may resolve what the failing migration depends on.
  const failed = lastBatchFailed && !(limited && ran > 0);
  const exitCode = failed
    ? DataMigrationExit.FAILED
    : ran > 0
      ? DataMigrationExit.MORE_MAY_REMAIN
      : DataMigrationExit.COMPLETE;
  return {
    limited,
    batchSize,
    batches,
    migrations: [...totals].map(([name, t]) => ({ name, ...t })),
    errors,
    unfixable,
    failed,
    exitCode,
  };
}
