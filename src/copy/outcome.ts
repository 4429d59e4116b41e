/**
 * What a migrate run ends with: its options, the outcome and exit code, and
 * the result document that --json prints.
 */
import type { Knex } from 'knex';
import type { DataMigrationRun } from '../data-migrations/runner.js';
import { ExitCode, type ExitCodeValue } from '../errors/exit-codes.js';
import type { ProgressListener } from '../progress/events.js';
import type { SyncResult } from '../schema/migrator.js';
import type { TableComparison } from './compare.js';
import type { Condition } from './conditions.js';
import type { CopyResult } from './copy.js';
import type { CopyPath } from './server-side.js';
import type { TargetState } from './target.js';

export type Outcome =
  | 'planned'
  | 'migrated'
  | 'already-migrated'
  | 'nothing-to-migrate'
  | 'no-placement-source'
  | 'target-has-other-data'
  | 'blocked'
  | 'interrupted'
  | 'verification-failed'
  /** --tables: the named tables are copied and verified; the migration is not finished. */
  | 'tables-copied'
  /** Copied and verified, but rows the online data migrations cannot fix keep the schema back. */
  | 'finish-blocked';

export const OUTCOME_EXIT: Record<Outcome, ExitCodeValue> = {
  planned: ExitCode.OK,
  migrated: ExitCode.OK,
  'already-migrated': ExitCode.ALREADY_MIGRATED,
  'nothing-to-migrate': ExitCode.NOTHING_TO_MIGRATE,
  'no-placement-source': ExitCode.SOURCE_HAS_NO_PLACEMENT,
  'target-has-other-data': ExitCode.TARGET_HAS_OTHER_DATA,
  blocked: ExitCode.COPY_BLOCKED,
  interrupted: ExitCode.INTERRUPTED_RUN,
  'verification-failed': ExitCode.VERIFICATION_FAILED,
  'tables-copied': ExitCode.OK,
  'finish-blocked': ExitCode.DATA_BLOCKS_UPGRADE,
};

/** Rows per committed batch of the row and server-side paths, when --batch-size is not given. */
export const DEFAULT_BATCH_ROWS = 2000;

/**
 * Rows per committed chunk of a COPY stream, when --batch-size is not given:
 * a chunk costs a statement on each side and a key lookup, so small chunks
 * cost more than the rows (2,000 rows a chunk took 12.0 s at 1M
 * allocations, 50,000 took 9.7 s); a kill loses at most one chunk's work.
 */
export const STREAM_CHUNK_ROWS = 50_000;

export interface MigrateOptions {
  apply: boolean;
  /** Rows per committed batch of the row and server-side paths (DEFAULT_BATCH_ROWS). */
  batchSize: number;
  /** Rows per committed chunk of the COPY-stream path; STREAM_CHUNK_ROWS when not given. */
  streamChunkRows?: number;
  /** Copy only these tables (the upstream script's MIGRATE_TABLES). */
  tables?: readonly string[];
  /** Leave behind (or NULL out) rows the target's foreign keys would refuse. */
  skipOrphans: boolean;
  /** Empty the tables of an interrupted run and start again. */
  restart: boolean;
  /** The schema revision or release to finish at; default head. */
  revision?: string;
  maxDifferences: number;
  lockTimeoutSeconds: number;
  /** Accept a target that holds tables other than placement's (refused by default). */
  allowOtherTables?: boolean;
  /**
   * Writers at once (tables, and key ranges of large tables): each on its own
   * connection of `writers`. Default 1; capped by the target's dialect (SQLite: 1).
   */
  parallel?: number;
  /**
   * A pool on the target with at least `parallel` connections. Without it,
   * a run that copies with more than one writer opens its own pool on the
   * target (and closes it after verification); the control connection that
   * holds the locks, the schema and the marker stays a single session.
   */
  writers?: Knex;
  /** Seconds to wait for each connection of the writers' own pool (default 10). */
  connectTimeoutSeconds?: number;
  /**
   * Tables with at least this many rows are bulk loads (default 50,000): copied
   * in key ranges, one per writer, and allocations/consumers with their plain
   * indexes built after the copy.
   */
  bulkMinRows?: number;
  onProgress?: ProgressListener;
  /**
   * Copy inside the server when the target's connection can read the
   * source's database on the same server or Galera cluster (server-side.ts);
   * default true. False: every row through placement-upgrade (--no-fast-path).
   */
  fastPath?: boolean;
  /** External ids of the project and user that own consumers created for old allocations. */
  incompleteConsumer?: { projectId?: string; userId?: string };
}

export interface TablePlan {
  table: string;
  inSource: boolean;
  sourceRows: number;
  targetRows: number;
  action: string;
}

export interface MigrateResult {
  outcome: Outcome;
  exitCode: ExitCodeValue;
  /** One paragraph for the operator. */
  message: string;
  hint: string | null;
  applied: boolean;
  source: { url: string; release: string; novaSchemaVersion: string | null; otherTables: string[] };
  target: { url: string; state: TargetState['kind']; revision: string | null };
  tables: TablePlan[];
  conditions: Condition[];
  /** How this run copied (null when it copied nothing: a plan, a refusal, a finish). */
  copyPath: CopyPath | null;
  copied: CopyResult[];
  verification: TableComparison[];
  /** Tables nova changed while the copy ran (its placement API was still up). */
  sourceChangedDuringCopy: string[];
  finish: {
    onlineMigrations: DataMigrationRun | null;
    schema: SyncResult | null;
    pendingCommands: string[];
  } | null;
  ms: number;
}

export function result(
  outcome: Outcome,
  message: string,
  hint: string | null,
  base: Omit<MigrateResult, 'outcome' | 'exitCode' | 'message' | 'hint' | 'ms'>,
  started: number,
): MigrateResult {
  return {
    outcome,
    exitCode: OUTCOME_EXIT[outcome],
    message,
    hint,
    ...base,
    ms: Math.round(performance.now() - started),
  };
}
