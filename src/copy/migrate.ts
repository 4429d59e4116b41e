import { CLUSTER_LOCK_TABLE } from '../db/dialect/galera.js';
import type { Knex } from 'knex';
import { openDatabase, type Database } from '../db/connect.js';
import { withDatabaseErrors } from '../db/errors.js';
import { UsageError } from '../errors/errors.js';
import { INITIAL_TABLES } from '../migrations/b4ed3a175331-initial.js';
import { INITIAL_REVISION, resolveRevisionTarget } from '../migrations/index.js';
import { ignoreProgress, type ProgressListener } from '../progress/events.js';
import {
  looksLikeNovaApi,
  PLACEMENT_TABLES,
  refuseUpgrade,
  syncSchema,
  VERSION_TABLE,
} from '../schema/migrator.js';
import {
  FIRST_CUSTOM_RESOURCE_CLASS_ID,
  standardResourceClasses,
  standardTraits,
} from '../standard/standard-names.js';
import { compareTable, type TableComparison, type Tolerance } from './compare.js';
import { findConditions } from './conditions.js';
import { finish, finishWorkDone, finishWorkLeft } from './finish.js';
import { result, type MigrateOptions, type MigrateResult } from './outcome.js';
import { countRows, type TableLayout } from './reader.js';
import { describeSource, readNovaSchemaVersion, sourceDigest, type SourceShape } from './source.js';
import { COPY_ORDER, copyTable as tableSpec } from './tables.js';
import {
  classifyTarget,
  createRun,
  dropRun,
  readRun,
  removeStartupRows,
  RUN_TABLE,
  saveRun,
  upgradeRunTable,
  type RunRecord,
  type TargetState,
} from './target.js';
import { count, formatNumber } from '../text/count.js';
import { copyData, openWriterPool } from './copy-phase.js';
import { pick, type ResultBase, type RunContext } from './run-context.js';
import { verifyCopy } from './verify-phase.js';

export type { MigrateOptions, MigrateResult, Outcome, TablePlan } from './outcome.js';

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
 * Plans, copies, verifies and finishes the move of placement's tables from a
 * nova_api database into a placement database. Without `apply` it only
 * plans. Both databases must have been opened with a single connection:
 * the source's holds the consistent snapshot for the whole run.
 *
 * The phases, in order: inspect both sides; refuse what can be refused
 * before writing; plan (counts, conditions); then
 * either compare a target copied before and finish it, or prepare the
 * target, copy, verify, and conclude (record, finish, drop the marker).
 * The copy and the verification are modules of their own (copy-phase.ts,
 * verify-phase.ts); what the phases share is the run's context
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

/** Phase 1: what the source is (inside the snapshot) and what the target holds. */
async function inspect(
  source: Database,
  target: Database,
  options: MigrateOptions,
  run: Pick<RunContext, 'progress' | 'selected' | 'finalRevision' | 'endSnapshot'> & {
    started: number;
  },
): Promise<RunContext> {
  const src = source.knex;
  const snapshot = await source.dialect.introspect(src);
  const shape = describeSource(
    snapshot,
    await readNovaSchemaVersion(src, source.dialect, Object.keys(snapshot.tables)),
  );
  const { state, rows: targetRows } = await withDatabaseErrors(
    target,
    'inspecting the target',
    () => classifyTarget(target),
  );
  const targetTables = await withDatabaseErrors(target, 'inspecting the target', () =>
    target.dialect.listTables(target.knex),
  );
  const base: ResultBase = {
    applied: options.apply,
    source: {
      url: source.display,
      release: shape.release,
      novaSchemaVersion: shape.novaSchemaVersion,
      otherTables: shape.allTables.filter((t) => !PLACEMENT_TABLES.includes(t)),
    },
    target: {
      url: target.display,
      state: state.kind,
      revision: 'revision' in state ? state.revision : null,
    },
    tables: [],
    conditions: [],
    copyPath: null,
    copied: [],
    verification: [],
    sourceChangedDuringCopy: [],
    finish: null,
  };
  return {
    source,
    target,
    options,
    progress: run.progress,
    selected: run.selected,
    finalRevision: run.finalRevision,
    shape,
    state,
    targetTables,
    targetRows,
    sourceRows: {},
    startDigest: null,
    endDigest: null,
    base,
    endSnapshot: run.endSnapshot,
    end: (outcome, message, hint) => result(outcome, message, hint, base, run.started),
  };
}

/**
 * Phase 2: the wrong database on either side, tables that are not
 * placement's in the target, a revision the target cannot go to, or a
 * source without placement tables. Nothing has been written.
 */
function refuseMismatches(ctx: RunContext): MigrateResult | null {
  const { source, target, shape, targetTables, options } = ctx;
  if (looksLikeNovaApi(targetTables)) {
    return ctx.end(
      'target-has-other-data',
      `${target.display} looks like a nova_api database (it has ${targetTables.filter((t) => looksLikeNovaApi([t])).join(' and ')}), not placement's own. Nothing was written.`,
      "Check --source and --target (or [api_database] and [placement_database] connection): nova_api is the source, and the target is placement's own database, empty or made by db sync.",
    );
  }
  if (shape.placementDatabase) {
    const revision = shape.placementDatabase.revision;
    return ctx.end(
      'no-placement-source',
      `${source.display} is a placement database, not a nova_api (${revision ? `placement's revision ${revision} in alembic_version` : 'a table only placement has'}, none of nova's tables such as cell_mappings): there is no nova_api to migrate from. Nothing was written.`,
      "Check --source and --target (or [api_database] and [placement_database] connection): were they swapped? The source is nova_api, the target placement's own database. A placement database that a migration filled already needs no migrate: use db sync and upgrade check on it.",
    );
  }
  const foreign = targetTables.filter(
    (t) =>
      !PLACEMENT_TABLES.includes(t) &&
      t !== VERSION_TABLE &&
      t !== RUN_TABLE &&
      t !== CLUSTER_LOCK_TABLE,
  );
  if (foreign.length > 0 && !options.allowOtherTables) {
    return ctx.end(
      'target-has-other-data',
      `${target.display} holds tables that are not placement's (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? `, and ${foreign.length - 5} more` : ''}). Nothing was written.`,
      "Point --target at placement's own database (empty, or made by db sync). If those tables are meant to share the database with placement, add --allow-other-tables.",
    );
  }
  refuseUpgrade(
    ctx.base.target.revision,
    ctx.finalRevision,
    resolveRevisionTarget(options.revision).release,
  );
  if (shape.release === 'none') {
    return ctx.end(
      'no-placement-source',
      `${source.display} has no placement tables (no resource_providers): there is nothing to copy.`,
      'A cloud deployed after placement was extracted keeps no placement data in nova_api. If this is the wrong database, check --source / [api_database] connection.',
    );
  }
  return null;
}

/**
 * Phase 3: row counts, the conditions old clouds carry and the source's
 * digest, all inside the snapshot; a source without providers has nothing
 * to migrate, and rows the target would refuse block the copy.
 */
async function plan(ctx: RunContext): Promise<MigrateResult | null> {
  const { source, target, shape, state, selected, targetRows, options } = ctx;
  const src = source.knex;
  for (const t of selected) {
    const layout = shape.layouts[t]!;
    ctx.sourceRows[t] = layout.present ? await countRows(src, source.dialect, t) : 0;
  }
  const { sourceRows, base } = ctx;
  base.conditions = await findConditions(source, src, shape, target, {
    skipOrphans: options.skipOrphans,
  });
  base.tables = selected.map((t) => ({
    table: t,
    inSource: shape.layouts[t]!.present,
    sourceRows: sourceRows[t] ?? 0,
    targetRows: targetRows[t] ?? 0,
    action: planAction(shape, state, t, sourceRows[t] ?? 0, targetRows[t] ?? 0),
  }));

  // Without a single resource provider there is no placement data: what else
  // is left (standard traits, orphans of deleted providers) nova-compute and
  // placement recreate, and nothing would reference it.
  const providerRows = shape.layouts['resource_providers']!.present
    ? await countRows(src, source.dialect, 'resource_providers')
    : 0;
  if (providerRows === 0) {
    const leftovers = Object.entries(sourceRows).filter(([, n]) => n > 0);
    return ctx.end(
      'nothing-to-migrate',
      `${source.display} has no resource providers: there is no placement data to migrate${
        leftovers.length > 0
          ? ` (left alone: ${leftovers.map(([t, n]) => `${n} ${t}`).join(', ')})`
          : ''
      }.`,
      'Start placement on its own database: "placement-upgrade db sync" creates the schema.',
    );
  }
  const blocking = base.conditions.filter((c) => c.severity === 'blocking');
  if (blocking.length > 0) {
    return ctx.end(
      'blocked',
      `The target would refuse some source rows: ${blocking.map((c) => c.message).join('; ')}. Nothing was written.`,
      blocking
        .map((c) => c.hint)
        .filter(Boolean)
        .join(' '),
    );
  }
  ctx.progress({
    type: 'plan',
    tables: base.tables.map(({ table, sourceRows: s, targetRows: t, action }) => ({
      table,
      sourceRows: s,
      targetRows: t,
      action,
    })),
    conditions: base.conditions.map((c) => ({ severity: c.severity, message: c.message })),
  });
  return null;
}

/**
 * A target that holds the source's data already: compare it row by row
 * (allowing for the online data migrations and placement's standard rows),
 * then do what is left of the finish. "already-migrated" (3) only when
 * nothing was left; a run that finished something is "migrated" (0).
 */
async function compareAndFinish(ctx: RunContext, finishing: boolean): Promise<MigrateResult> {
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

/** Without --apply the run ends here: the plan, or the interrupted run it found. */
function planOutcome(ctx: RunContext): MigrateResult | null {
  const { state, options, target, selected, sourceRows } = ctx;
  if (state.kind === 'interrupted' && !options.apply) {
    const { run } = state;
    return ctx.end(
      'interrupted',
      `${target.display} holds an unfinished migrate run (started ${run.startedAt} from ${run.source}; ${
        run.phase === 'finish'
          ? 'copied and verified, the online data migrations and schema upgrade remain'
          : `still copying${run.plan.verified.length > 0 ? `, ${run.plan.verified.join(', ')} verified` : ''}`
      }). Nothing was written.`,
      'Re-run with --apply to resume it where it stopped (add --restart to empty its tables and copy again).',
    );
  }
  if (options.restart && state.kind !== 'interrupted') {
    throw new UsageError(
      '--restart only applies to a target that holds an interrupted migrate run.',
      'Without it, migrate never deletes rows it did not write.',
    );
  }
  if (!options.apply) {
    const total = Object.values(sourceRows).reduce((a, b) => a + b, 0);
    return ctx.end(
      'planned',
      `Plan only: ${count(total, 'row')} in ${count(selected.length, 'table')} would be copied into ${target.display}. Nothing was written.`,
      'Re-run with --apply to copy, verify and finish.',
    );
  }
  return null;
}

/**
 * Phase 4 (apply): the marker first, then placement's schema at the initial
 * revision (rebuilt when an interrupted MySQL run left part of it), the
 * start-up rows out of the way, and with --restart the interrupted run's
 * rows gone. Returns the run's record.
 */
async function prepareTarget(ctx: RunContext): Promise<RunRecord> {
  const { source, target, state, options, progress } = ctx;
  await withDatabaseErrors(target, 'preparing the target', async () => {
    const t = target.knex;
    if (state.kind !== 'interrupted') await createRun(target, source.display);
    else await upgradeRunTable(target);
    const tables = await target.dialect.listTables(t);
    const stamped =
      tables.includes(VERSION_TABLE) && (await t(VERSION_TABLE).first('version_num')) !== undefined;
    if (!stamped) {
      // An interrupted run on MySQL (no transactional DDL) may have left part
      // of the initial schema, empty and unstamped: drop it, children before
      // the tables their foreign keys name, and create it again.
      const created = [VERSION_TABLE, ...INITIAL_TABLES.map((d) => d.name).reverse()];
      for (const name of created.filter((n) => tables.includes(n))) {
        if ((await countRows(t, target.dialect, name)) === 0)
          await t.raw(target.dialect.dropTableSql(name));
      }
      progress({
        type: 'step',
        step: 'schema',
        message: `Creating placement's schema at ${INITIAL_REVISION}`,
      });
      await syncSchema(target, {
        target: INITIAL_REVISION,
        lockTimeoutSeconds: options.lockTimeoutSeconds,
        onProgress: progress,
      });
    }
    if (state.kind === 'startup-rows-only') {
      progress({
        type: 'step',
        step: 'startup-rows',
        message:
          'Removing the standard traits and classes placement inserted at start-up (it re-adds them)',
      });
      await removeStartupRows(t);
    }
    if (options.restart) {
      progress({
        type: 'step',
        step: 'restart',
        message: 'Emptying the tables of the interrupted run',
      });
      // Providers reference providers: unlink them first, or MySQL refuses the DELETE row by row.
      await t('resource_providers').update({ parent_provider_id: null, root_provider_id: null });
      for (const name of [...COPY_ORDER].reverse()) await t(name).del();
      await saveRun(target, { phase: 'copy', plan: { verified: [], ranges: {} } });
    }
  });
  return (await withDatabaseErrors(target, 'reading the run', () => readRun(target)))!;
}

/**
 * The live source's digest (what nova_api holds now, outside the snapshot),
 * read on a connection of its own so that it runs beside the verification
 * once the copy has ended: any write nova made during the copy shows.
 */
async function liveDigest(ctx: RunContext): Promise<Record<string, string>> {
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
async function conclude(ctx: RunContext, run: RunRecord): Promise<MigrateResult> {
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

function planAction(
  shape: SourceShape,
  state: TargetState,
  table: string,
  rows: number,
  targetRows: number,
): string {
  if (!shape.layouts[table]!.present) return `absent in a ${shape.release} nova_api: left empty`;
  if (state.kind === 'populated') return 'compare with the target';
  if (state.kind === 'interrupted' && targetRows > 0)
    return `resume: ${formatNumber(Math.max(0, rows - targetRows))} of ${count(rows, 'row')} left`;
  const extra = shape.extraColumns[table];
  return `copy ${count(rows, 'row')}${extra ? ` (without ${extra.join(', ')})` : ''}`;
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
