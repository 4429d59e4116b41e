/**
 * A target that holds the source's data already (an earlier migration, or a
 * run stopped in its finish): compare it with the source row by row,
 * allowing for what the online data migrations and placement change, then
 * finish what is left.
 */
import type { Knex } from 'knex';
import { type Database } from '../db/connect.js';
import { withDatabaseErrors } from '../db/errors.js';
import { type ProgressListener } from '../progress/events.js';
import {
  FIRST_CUSTOM_RESOURCE_CLASS_ID,
  standardResourceClasses,
  standardTraits,
} from '../standard/standard-names.js';
import { compareTable, type TableComparison, type Tolerance } from './compare.js';
import { finish, finishWorkDone, finishWorkLeft } from './finish.js';
import { type MigrateResult } from './outcome.js';
import { type TableLayout } from './reader.js';
import { type SourceShape } from './source.js';
import { COPY_ORDER, copyTable as tableSpec } from './tables.js';
import { dropRun } from './target.js';
import { count } from '../text/count.js';
import { type RunContext } from './run-context.js';

/** Accepts placement's own later additions when deciding "already migrated". */
function postMigrationTolerance(table: string, sourceMaxKey: number): Tolerance | undefined {
  const traits = new Set(standardTraits());
  const classes = standardResourceClasses();
  switch (table) {
    case 'resource_providers':
      // set_root_provider_ids: a provider without root becomes its own root, and
      // that UPDATE stamps updated_at, which is therefore not compared here.
      return {
        normalise: (r) => ({
          ...r,
          root_provider_id: r['root_provider_id'] ?? r['id'],
          updated_at: null,
        }),
      };
    case 'consumers':
    case 'projects':
    case 'users':
      // create_incomplete_consumers adds rows past the copied ids.
      return { acceptExtra: (r) => Number(r['id']) > sourceMaxKey };
    case 'traits':
      return {
        acceptExtra: (r) => Number(r['id']) > sourceMaxKey && traits.has(String(r['name'])),
      };
    case 'resource_classes':
      return {
        acceptExtra: (r) =>
          Number(r['id']) < FIRST_CUSTOM_RESOURCE_CLASS_ID &&
          classes[Number(r['id'])] === r['name'],
      };
    default:
      return undefined;
  }
}

/**
 * A target that holds the source's data already: compare it row by row
 * (allowing for the online data migrations and placement's standard rows),
 * then do what is left of the finish. "already-migrated" (3) only when
 * nothing was left; a run that finished something is "migrated" (0).
 */
export async function compareAndFinish(
  ctx: RunContext,
  finishing: boolean,
): Promise<MigrateResult> {
  const { source, target, shape, selected, targetRows, options, progress, base } = ctx;
  progress({
    type: 'step',
    step: 'compare',
    message: finishing
      ? 'The target holds a copied and verified run: comparing it with the source again'
      : 'The target holds data: comparing it with the source',
  });
  base.verification = await compareMigratedTables(source.knex, source.dialect, shape, target, {
    tables: selected.filter((t) => shape.layouts[t]!.present || (targetRows[t] ?? 0) > 0),
    batchSize: options.batchSize,
    maxDifferences: options.maxDifferences,
    onProgress: progress,
  });
  const differing = base.verification.filter((v) => !v.equal);
  await ctx.endSnapshot();
  const differences = differing
    .map((d) => `${d.table} (${count(d.differenceCount, 'row')})`)
    .join(', ');
  if (differing.length > 0 && finishing) {
    return ctx.end(
      'verification-failed',
      `${target.display} holds a migration copied and verified earlier, but the source now differs from it in ${differences}: nova wrote to nova_api since. Nothing was written.`,
      'Stop nova-placement-api (and every service writing placement data through nova), then re-run with --apply --restart to copy again.',
    );
  }
  if (differing.length > 0) {
    return ctx.end(
      'target-has-other-data',
      `${target.display} already holds placement data that differs from the source in ${differences}. Nothing was written.`,
      'If placement has been running on this database since an earlier migration, this is expected and there is nothing left to migrate. Otherwise point --target at an empty database (or drop and recreate this one).',
    );
  }
  const compared = `${count(base.verification.length, 'table')} compared row by row, allowing for the online data migrations and placement's standard rows`;
  if (!options.apply) {
    const left = await finishWorkLeft(target, ctx.finalRevision);
    return left.length === 0
      ? ctx.end(
          'already-migrated',
          `${target.display} already holds exactly the source's placement data (${compared}), and its schema is at ${base.target.revision}.`,
          null,
        )
      : ctx.end(
          'planned',
          `${target.display} already holds exactly the source's placement data (${compared}). Still to do: ${left.join('; ')}. Nothing was written.`,
          'Re-run with --apply to finish.',
        );
  }
  base.finish = await withDatabaseErrors(target, 'finishing', () =>
    finish(target, options, progress),
  );
  if (finishing) await withDatabaseErrors(target, 'finishing', () => dropRun(target));
  const did = finishWorkDone(base.finish);
  const pending = base.finish.pendingCommands;
  if (!finishing && did.length === 0 && pending.length === 0) {
    return ctx.end(
      'already-migrated',
      `${target.display} already holds exactly the source's placement data (${compared}), and its schema is at ${base.finish.schema?.to ?? base.target.revision}.`,
      null,
    );
  }
  return ctx.end(
    pending.length > 0 ? 'finish-blocked' : 'migrated',
    `${target.display} already held the source's placement data (${compared}); finished the migration${did.length > 0 ? `: ${did.join('; ')}` : ''}.`,
    pending.length > 0 ? `Still to run: ${pending.join(' ; then ')}` : null,
  );
}

/**
 * Compares the source's placement tables with a target migrated from it,
 * allowing only for what the online data migrations and placement's own
 * start-up change. Read inside the caller's snapshot (`conn`). Used to tell
 * "already migrated" apart from "other data", and by upgrade check's Source
 * Parity to see whether nova wrote to nova_api after the copy.
 */
export async function compareMigratedTables(
  conn: Knex,
  dialect: Database['dialect'],
  shape: SourceShape,
  target: Database,
  options: {
    tables?: readonly string[];
    batchSize: number;
    maxDifferences: number;
    onProgress?: ProgressListener;
  },
): Promise<TableComparison[]> {
  const out: TableComparison[] = [];
  for (const t of options.tables ?? COPY_ORDER) {
    const layout = shape.layouts[t]!;
    const maxKey = await maxFirstKey(conn, dialect, layout);
    out.push(
      await compareTable(
        { conn, dialect, layout },
        {
          conn: target.knex,
          dialect: target.dialect,
          layout: { table: tableSpec(t), present: true, columns: [...tableSpec(t).columns] },
        },
        {
          batchSize: options.batchSize,
          maxDifferences: options.maxDifferences,
          tolerance: postMigrationTolerance(t, maxKey),
          onProgress: options.onProgress,
        },
      ),
    );
  }
  return out;
}

async function maxFirstKey(
  conn: Knex,
  dialect: Database['dialect'],
  layout: TableLayout,
): Promise<number> {
  if (!layout.present) return 0;
  const [row] = dialect.rows<{ m: unknown }>(
    await conn.raw(
      `SELECT MAX(${dialect.quote(layout.table.key[0]!)}) AS m FROM ${dialect.quote(layout.table.name)}`,
    ),
  );
  return Number(row?.m ?? 0);
}
