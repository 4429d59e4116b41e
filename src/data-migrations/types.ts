import type { Database } from '../db/connect.js';

/** The default external id of the "incomplete consumer" project and user, as in placement. */
export const DEFAULT_INCOMPLETE_CONSUMER_ID = '00000000-0000-0000-0000-000000000000';

/** What a migration may use: the database and the operator's [placement] options. */
export interface DataMigrationContext {
  readonly database: Database;
  /** External ids of the project and user that own consumers created for old allocations. */
  readonly incompleteConsumer: { readonly projectId: string; readonly userId: string };
}

/** Rows a migration found but cannot fix without a human: reported, never guessed. */
export interface Unfixable {
  rows: number;
  /** One sentence: what is wrong with them. */
  reason: string;
  /** What the operator can run or check. */
  hint: string;
}

/**
 * One batch's outcome, with placement's meaning: `found` candidates existed
 * (up to the batch size), `done` of them were migrated. found > done means
 * some rows cannot be migrated.
 */
export interface BatchResult {
  found: number;
  done: number;
  unfixable?: Unfixable;
}

/** Migrates at most `batchSize` rows, committing its own transaction; idempotent. */
export type MigrationBatch = (batchSize: number) => Promise<BatchResult>;

/**
 * An online data migration, as placement-manage runs them: called with a
 * batch size until it migrates nothing. `start` is called once per run and
 * may keep a cursor between batches; correctness never depends on it.
 */
export interface OnlineDataMigration {
  /** placement-manage's name for it (set_root_provider_ids …); printed and parsed. */
  readonly name: string;
  /** One line for --help and the docs. */
  readonly summary: string;
  start(context: DataMigrationContext): MigrationBatch;
}
