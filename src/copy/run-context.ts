/**
 * What the phases of one migrate run share (the run's context), and how a
 * table reads on each side of it.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import type { ProgressListener } from '../progress/events.js';
import type { MigrateOptions, MigrateResult, Outcome } from './outcome.js';
import type { TableLayout } from './reader.js';
import type { OrphanSets } from './row-fixes.js';
import type { SourceShape } from './source.js';
import { copyTable as tableSpec } from './tables.js';
import type { TargetState } from './target.js';

export type ResultBase = Omit<MigrateResult, 'outcome' | 'exitCode' | 'message' | 'hint' | 'ms'>;

/** What the phases of one run share. */
export interface RunContext {
  source: Database;
  target: Database;
  options: MigrateOptions;
  progress: ProgressListener;
  selected: string[];
  finalRevision: string;
  shape: SourceShape;
  state: TargetState;
  targetTables: string[];
  targetRows: Record<string, number>;
  /** Rows of each selected table in the source's snapshot (plan). */
  sourceRows: Record<string, number>;
  /**
   * The source's digest inside the snapshot, held against the live one at
   * the end; read during the copy (the snapshot's digest is the same
   * whenever it is read), null before.
   */
  startDigest: Promise<Record<string, string>> | null;
  /**
   * The live source's digest, read on a connection of its own once the
   * copy has ended, beside the verification; null before.
   */
  endDigest: Promise<Record<string, string>> | null;
  /** The result document, filled in as the phases go. */
  base: ResultBase;
  endSnapshot: () => Promise<void>;
  /** Ends the run with an outcome. */
  end(outcome: Outcome, message: string, hint: string | null): MigrateResult;
}

/** How a table reads on each side, for the copy and the comparisons. */
export function sourceSide(ctx: RunContext, t: string) {
  return { conn: ctx.source.knex, dialect: ctx.source.dialect, layout: ctx.shape.layouts[t]! };
}

export function targetSide(
  ctx: RunContext,
  t: string,
): { conn: Knex; dialect: Database['dialect']; layout: TableLayout } {
  return {
    conn: ctx.target.knex,
    dialect: ctx.target.dialect,
    layout: { table: tableSpec(t), present: true, columns: [...tableSpec(t).columns] },
  };
}

export function pick(
  layouts: Record<string, TableLayout>,
  names: readonly string[],
): Record<string, TableLayout> {
  return Object.fromEntries(names.map((n) => [n, layouts[n]!]));
}

/** What the copy leaves for verification. */
export interface CopyOutcome {
  orphanFilter: OrphanSets | null;
  parallel: number;
  writers: Knex;
}
