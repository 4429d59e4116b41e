import type { Database } from '../db/connect.js';
import { withDatabaseErrors } from '../db/errors.js';
import { UsageError } from '../errors/errors.js';
import { resolveRevisionTarget } from '../migrations/index.js';
import { ignoreProgress } from '../progress/events.js';
import { compareAndFinish } from './compare-phase.js';
import { conclude, liveDigest } from './conclude-phase.js';
import { copyData, openWriterPool } from './copy-phase.js';
import { inspect, refuseMismatches } from './inspect-phase.js';
import type { MigrateOptions, MigrateResult } from './outcome.js';
import { plan, planOutcome } from './plan-phase.js';
import { prepareTarget } from './prepare-phase.js';
import { COPY_ORDER } from './tables.js';
import { verifyCopy } from './verify-phase.js';

export type { MigrateOptions, MigrateResult, Outcome, TablePlan } from './outcome.js';

/**
 * Plans, copies, verifies and finishes the move of placement's tables from a
 * nova_api database into a placement database. Without `apply` it only
 * plans. Both databases must have been opened with a single connection:
 * the source's holds the consistent snapshot for the whole run.
 *
 * The phases, in order, each a module of its own: inspect both sides and
 * refuse what can be refused before writing (inspect-phase.ts); plan:
 * counts, conditions (plan-phase.ts); then either compare a target copied
 * before and finish it (compare-phase.ts), or prepare the target
 * (prepare-phase.ts), copy (copy-phase.ts), verify (verify-phase.ts) and
 * conclude: the live digest, the record, the finish, the marker dropped
 * (conclude-phase.ts). What the phases share is the run's context
 * (run-context.ts).
 */
export async function migrate(
  source: Database,
  target: Database,
  options: MigrateOptions,
): Promise<MigrateResult> {
  const started = performance.now();
  const progress = options.onProgress ?? ignoreProgress;
  const selected = selectTables(options.tables);
  // A misspelt --revision is found before anything is read, let alone written.
  const finalRevision = resolveRevisionTarget(options.revision).revision;

  progress({
    type: 'step',
    step: 'snapshot',
    message: `Reading ${source.display} in one consistent snapshot`,
  });
  await withDatabaseErrors(source, 'starting a consistent snapshot', () =>
    source.dialect.beginSnapshot(source.knex),
  );
  let snapshotOpen = true;
  const endSnapshot = async () => {
    if (snapshotOpen) {
      snapshotOpen = false;
      await source.dialect.endSnapshot(source.knex);
    }
  };
  try {
    const ctx = await inspect(source, target, options, {
      started,
      progress,
      selected,
      finalRevision,
      endSnapshot,
    });
    const refused = refuseMismatches(ctx);
    if (refused) return refused;
    const unplannable = await plan(ctx);
    if (unplannable) return unplannable;

    const { state } = ctx;
    // A target copied and verified before, by an earlier migration (populated)
    // or by a run stopped in its online data migrations or schema upgrade
    // (an unfinished run in the finish phase): compare, then finish it.
    const finishing =
      state.kind === 'interrupted' && state.run.phase === 'finish' && !options.restart;
    if (state.kind === 'populated' || (finishing && options.apply)) {
      return await compareAndFinish(ctx, finishing);
    }
    const planOnly = planOutcome(ctx);
    if (planOnly) return planOnly;

    const run = await prepareTarget(ctx);
    const pool = await openWriterPool(ctx);
    try {
      const copy = await copyData(ctx, run, pool);
      ctx.endDigest = liveDigest(ctx);
      ctx.endDigest.catch(() => undefined); // awaited in conclude
      await verifyCopy(ctx, copy);
    } finally {
      await pool?.close();
    }
    return await conclude(ctx, run);
  } finally {
    await endSnapshot().catch(() => undefined);
  }
}

/** The tables a run copies: --tables (checked), else all eleven, in copy order. */
function selectTables(tables: readonly string[] | undefined): string[] {
  const only = tables && tables.length > 0 ? tables : undefined;
  for (const t of only ?? []) {
    if (!COPY_ORDER.includes(t)) {
      throw new UsageError(
        `"${t}" is not one of placement's tables.`,
        `Placement's tables: ${COPY_ORDER.join(', ')}.`,
      );
    }
  }
  return COPY_ORDER.filter((t) => !only || only.includes(t));
}
