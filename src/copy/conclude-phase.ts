/**
 * The end of a migrate run: the live source's digest against the
 * snapshot's, the verdict, the run's record, and the finish (online data
 * migrations, schema upgrade) when every table is copied.
 */
import { openDatabase } from '../db/connect.js';
import { withDatabaseErrors } from '../db/errors.js';
import { finish } from './finish.js';
import { type MigrateResult } from './outcome.js';
import { sourceDigest } from './source.js';
import { COPY_ORDER } from './tables.js';
import { dropRun, saveRun, type RunRecord } from './target.js';
import { count } from '../text/count.js';
import { pick, type RunContext } from './run-context.js';

/**
 * The live source's digest (what nova_api holds now, outside the snapshot),
 * read on a connection of its own so that it runs beside the verification
 * once the copy has ended: any write nova made during the copy shows.
 */
export async function liveDigest(ctx: RunContext): Promise<Record<string, string>> {
  const { source, shape, selected, options } = ctx;
  const live = await openDatabase(source.spec, {
    max: 1,
    connectTimeoutSeconds: options.connectTimeoutSeconds,
  });
  try {
    return await sourceDigest(live.knex, live.dialect, pick(shape.layouts, selected));
  } finally {
    await live.close();
  }
}

/**
 * Phase 7: the source's live digest against the snapshot's (nova writing
 * during the copy), then the run's record: with tables still to copy
 * (--tables), that is where it stops; else the finish phase is recorded,
 * the online data migrations and the schema upgrade run, and the marker
 * goes, last.
 */
export async function conclude(ctx: RunContext, run: RunRecord): Promise<MigrateResult> {
  const { source, target, shape, selected, options, progress, base } = ctx;
  const startDigest = await withDatabaseErrors(
    source,
    'reading the source',
    () => ctx.startDigest!,
  );
  await ctx.endSnapshot();
  const endDigest = await withDatabaseErrors(
    source,
    'reading the source',
    () => ctx.endDigest ?? sourceDigest(source.knex, source.dialect, pick(shape.layouts, selected)),
  );
  base.sourceChangedDuringCopy = Object.keys(startDigest).filter(
    (t) => startDigest[t] !== endDigest[t],
  );
  const differing = base.verification.filter((v) => !v.equal);
  if (differing.length > 0 || base.sourceChangedDuringCopy.length > 0) {
    const parts = [
      ...differing.map(
        (d) =>
          `${d.table}: ${count(d.differenceCount, 'row')} ${d.differenceCount === 1 ? 'differs' : 'differ'} (first: ${d.differences[0]?.key ?? '?'})`,
      ),
      ...(base.sourceChangedDuringCopy.length > 0
        ? [`nova changed ${base.sourceChangedDuringCopy.join(', ')} while the copy ran`]
        : []),
    ];
    return ctx.end(
      'verification-failed',
      `Verification failed: ${parts.join('; ')}. The target keeps its rows and is marked as an interrupted run.`,
      base.sourceChangedDuringCopy.length > 0
        ? 'Stop nova-placement-api (and every service writing placement data through nova), then re-run with --apply --restart.'
        : 'Re-run with --apply --restart to copy again; if it fails again, report the differences shown.',
    );
  }
  const rowsCopied = base.copied.reduce((a, c) => a + c.rows, 0);
  run.plan.verified = COPY_ORDER.filter(
    (t) => run.plan.verified.includes(t) || selected.includes(t),
  );
  // Tables an old nova_api lacks stay empty: nothing of them is left to copy.
  const left = COPY_ORDER.filter(
    (t) => !run.plan.verified.includes(t) && shape.layouts[t]!.present,
  );
  if (left.length > 0) {
    await withDatabaseErrors(target, 'recording the run', () =>
      saveRun(target, { plan: run.plan }),
    );
    return ctx.end(
      'tables-copied',
      `Copied ${count(rowsCopied, 'row')} of ${selected.join(', ')} and verified them: counts and checksums equal. The migration is not finished: ${left.join(', ')} still to copy, then the online data migrations and the schema upgrade.`,
      'Run migrate --apply again without --tables (or with the remaining tables) to copy the rest and finish; until then the other commands refuse this database.',
    );
  }
  await withDatabaseErrors(target, 'recording the run', () =>
    saveRun(target, { phase: 'finish', plan: run.plan }),
  );
  base.finish = await withDatabaseErrors(target, 'finishing', () =>
    finish(target, options, progress),
  );
  await withDatabaseErrors(target, 'finishing', () => dropRun(target));
  const pending = base.finish.pendingCommands;
  return ctx.end(
    pending.length > 0 ? 'finish-blocked' : 'migrated',
    `Copied ${count(rowsCopied, 'row')} in ${count(base.copied.length, 'table')} and verified ${count(base.verification.length, 'table')}: counts and checksums equal.${
      base.finish.schema ? ` Schema at ${base.finish.schema.to}.` : ''
    }`,
    pending.length > 0 ? `Still to run: ${pending.join(' ; then ')}` : null,
  );
}
