/**
 * The end of a migration: the online data migrations while the target is
 * before Train's blockers, then the schema upgrade to the asked revision.
 */
import type { Database } from '../db/connect.js';
import { withDatabaseErrors } from '../db/errors.js';
import {
  countOnlineMigrationRows,
  runOnlineDataMigrations,
  type DataMigrationRun,
} from '../data-migrations/runner.js';
import { INITIAL_REVISION, resolveRevisionTarget, revisionIndex } from '../migrations/index.js';
import type { ProgressListener } from '../progress/events.js';
import { readSchemaRevision, syncSchema } from '../schema/migrator.js';
import type { MigrateOptions, MigrateResult } from './outcome.js';
import { count } from '../text/count.js';
import { COPY_ORDER } from './tables.js';

/** The Train revision after which no row can need the online data migrations. */
export const LAST_BLOCKER = 'b5c396305c25';

/**
 * Rows per batch of the online data migrations that finish() runs: nothing
 * uses the target yet, so batches larger than placement-manage's 50 (1M
 * allocations with 47k consumers missing: about a thousand transactions
 * fewer); each still fits a Galera write set, split where it would not.
 */
export const FINISH_BATCH_ROWS = 20_000;

/** Whether finish() would run the online data migrations on a target at `current`. */
export function needsOnlineMigrations(current: string | null, final: string): boolean {
  return (
    revisionIndex(final) > revisionIndex(INITIAL_REVISION) &&
    revisionIndex(current) < revisionIndex(LAST_BLOCKER)
  );
}

/** What finish() would still do to a target that holds the source's data (plan only). */
export async function finishWorkLeft(target: Database, final: string): Promise<string[]> {
  const current = await readSchemaRevision(target);
  const left: string[] = [];
  if (needsOnlineMigrations(current, final)) {
    const pending = await withDatabaseErrors(target, 'counting the online data migrations', () =>
      countOnlineMigrationRows(target.knex),
    );
    if (pending > 0) left.push(`the online data migrations (${count(pending, 'row')})`);
  }
  if (revisionIndex(current) < revisionIndex(final))
    left.push(`the schema upgrade from ${current ?? 'none'} to ${final}`);
  return left;
}

/** What finish() changed, in words; empty when it found nothing to do. */
export function finishWorkDone(done: NonNullable<MigrateResult['finish']>): string[] {
  const out: string[] = [];
  const rows = done.onlineMigrations?.migrations.reduce((a, m) => a + m.done, 0) ?? 0;
  if (rows > 0) out.push(`the online data migrations fixed ${count(rows, 'row')}`);
  if (done.schema && !done.schema.upToDate)
    out.push(`upgraded the schema from ${done.schema.from ?? 'none'} to ${done.schema.to}`);
  return out;
}

/**
 * Runs the online data migrations while the target is before the Train
 * blockers (they are idempotent: a resumed run does what a killed one left),
 * then upgrades the schema to the requested revision, so the blockers pass.
 */
export async function finish(
  target: Database,
  options: MigrateOptions,
  progress: ProgressListener,
): Promise<NonNullable<MigrateResult['finish']>> {
  const { revision: final, release } = resolveRevisionTarget(options.revision);
  const current = await readSchemaRevision(target);
  const pendingCommands: string[] = [];
  let onlineMigrations: DataMigrationRun | null = null;
  let schemaTarget = final;
  if (needsOnlineMigrations(current, final)) {
    // Fresh from a bulk load, the tables may have no planner statistics:
    // without them PostgreSQL scanned allocations whole for each of the
    // migrations' batches (1M allocations, 47k consumers to create: 7 minutes
    // instead of seconds).
    await withDatabaseErrors(target, 'refreshing the planner statistics', async () => {
      const present = new Set(await target.dialect.listTables(target.knex));
      const tables = COPY_ORDER.filter((t) => present.has(t));
      await target.dialect.refreshStatistics(target.knex, tables);
    });
    progress({
      type: 'step',
      step: 'online-migrations',
      message:
        'Running the online data migrations (set_root_provider_ids, create_incomplete_consumers)',
    });
    onlineMigrations = await runOnlineDataMigrations(target, {
      batchSize: FINISH_BATCH_ROWS,
      incompleteConsumer: options.incompleteConsumer,
      onProgress: progress,
    });
    if (onlineMigrations.exitCode !== 0) {
      // Rows they cannot fix would stop the Train blockers: stay at the initial revision.
      schemaTarget = INITIAL_REVISION;
      pendingCommands.push(
        'fix what "placement-upgrade db online-data-migrations" reports, and run it again',
      );
    }
  }
  progress({ type: 'step', step: 'schema', message: `Upgrading the schema to ${schemaTarget}` });
  const schema = await syncSchema(target, {
    target: schemaTarget,
    lockTimeoutSeconds: options.lockTimeoutSeconds,
    onProgress: progress,
  });
  if (schemaTarget !== final)
    pendingCommands.push(`placement-upgrade db sync --revision ${release ?? final}`);
  return { onlineMigrations, schema, pendingCommands };
}
