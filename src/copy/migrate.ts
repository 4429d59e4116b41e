import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { withDatabaseErrors } from '../db/errors.js';
import {
  countOnlineMigrationRows,
  runOnlineDataMigrations,
  type DataMigrationRun,
} from '../data-migrations/runner.js';
import { UsageError } from '../errors/errors.js';
import { ExitCode, type ExitCodeValue } from '../errors/exit-codes.js';
import { INITIAL_TABLES } from '../migrations/b4ed3a175331-initial.js';
import type { IndexDef } from '../schema/model.js';
import { INITIAL_REVISION, resolveRevisionTarget, revisionIndex } from '../migrations/index.js';
import { ignoreProgress, type ProgressListener } from '../progress/events.js';
import {
  looksLikeNovaApi,
  PLACEMENT_TABLES,
  readSchemaRevision,
  refuseUpgrade,
  syncSchema,
  VERSION_TABLE,
  type SyncResult,
} from '../schema/migrator.js';
import {
  FIRST_CUSTOM_RESOURCE_CLASS_ID,
  standardResourceClasses,
  standardTraits,
} from '../standard/standard-names.js';
import { checksumSide, compareTable, type TableComparison, type Tolerance } from './compare.js';
import { findConditions, type Condition } from './conditions.js';
import { copyTables, type CopyResult, type CopyUnit } from './copy.js';
import { countRows, splitKeyRange, type Row, type TableLayout } from './reader.js';
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
  type RunPlan,
  type TargetState,
} from './target.js';

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

const OUTCOME_EXIT: Record<Outcome, ExitCodeValue> = {
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

export interface MigrateOptions {
  apply: boolean;
  batchSize: number;
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
  /** A pool on the target with at least `parallel` connections; default the target's own. */
  writers?: Knex;
  /**
   * Tables with at least this many rows are bulk loads (default 50,000): copied
   * in key ranges, one per writer, and allocations/consumers with their plain
   * indexes built after the copy.
   */
  bulkMinRows?: number;
  onProgress?: ProgressListener;
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

function result(
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
 */
export async function migrate(
  source: Database,
  target: Database,
  options: MigrateOptions,
): Promise<MigrateResult> {
  const started = performance.now();
  const progress = options.onProgress ?? ignoreProgress;
  const only = options.tables && options.tables.length > 0 ? options.tables : undefined;
  for (const t of only ?? []) {
    if (!COPY_ORDER.includes(t)) {
      throw new UsageError(
        `"${t}" is not one of placement's tables.`,
        `Placement's tables: ${COPY_ORDER.join(', ')}.`,
      );
    }
  }
  const selected = COPY_ORDER.filter((t) => !only || only.includes(t));
  // A misspelt --revision is found before anything is read, let alone written.
  const finalRevision = resolveRevisionTarget(options.revision).revision;
  const src = source.knex;

  progress({
    type: 'step',
    step: 'snapshot',
    message: `Reading ${source.display} in one consistent snapshot`,
  });
  await withDatabaseErrors(source, 'starting a consistent snapshot', () =>
    source.dialect.beginSnapshot(src),
  );
  let snapshotOpen = true;
  const endSnapshot = async () => {
    if (snapshotOpen) {
      snapshotOpen = false;
      await source.dialect.endSnapshot(src);
    }
  };
  try {
    const snapshot = await source.dialect.introspect(src);
    const shape = describeSource(
      snapshot,
      await readNovaSchemaVersion(src, source.dialect, Object.keys(snapshot.tables)),
    );
    const otherTables = shape.allTables.filter((t) => !PLACEMENT_TABLES.includes(t));
    const sourceInfo = {
      url: source.display,
      release: shape.release,
      novaSchemaVersion: shape.novaSchemaVersion,
      otherTables,
    };
    const { state, rows: targetRows } = await withDatabaseErrors(
      target,
      'inspecting the target',
      () => classifyTarget(target),
    );
    const targetTables = await withDatabaseErrors(target, 'inspecting the target', () =>
      target.dialect.listTables(target.knex),
    );
    const base = {
      applied: options.apply,
      source: sourceInfo,
      target: {
        url: target.display,
        state: state.kind,
        revision: 'revision' in state ? state.revision : null,
      },
      tables: [] as TablePlan[],
      conditions: [] as Condition[],
      copied: [] as CopyResult[],
      verification: [] as TableComparison[],
      sourceChangedDuringCopy: [] as string[],
      finish: null as MigrateResult['finish'],
    };

    if (looksLikeNovaApi(targetTables)) {
      return result(
        'target-has-other-data',
        `${target.display} looks like a nova_api database (it has ${targetTables.filter((t) => looksLikeNovaApi([t])).join(' and ')}), not placement's own. Nothing was written.`,
        "Check --source and --target (or [api_database] and [placement_database] connection): nova_api is the source, and the target is placement's own database, empty or made by db sync.",
        base,
        started,
      );
    }
    if (shape.placementDatabase) {
      const revision = shape.placementDatabase.revision;
      return result(
        'no-placement-source',
        `${source.display} is a placement database, not a nova_api (${revision ? `placement's revision ${revision} in alembic_version` : 'a table only placement has'}, none of nova's tables such as cell_mappings): there is no nova_api to migrate from. Nothing was written.`,
        "Check --source and --target (or [api_database] and [placement_database] connection): were they swapped? The source is nova_api, the target placement's own database. A placement database that a migration filled already needs no migrate: use db sync and upgrade check on it.",
        base,
        started,
      );
    }

    const foreign = targetTables.filter(
      (t) => !PLACEMENT_TABLES.includes(t) && t !== VERSION_TABLE && t !== RUN_TABLE,
    );
    if (foreign.length > 0 && !options.allowOtherTables) {
      return result(
        'target-has-other-data',
        `${target.display} holds tables that are not placement's (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? `, and ${foreign.length - 5} more` : ''}). Nothing was written.`,
        "Point --target at placement's own database (empty, or made by db sync). If those tables are meant to share the database with placement, add --allow-other-tables.",
        base,
        started,
      );
    }
    refuseUpgrade(
      base.target.revision,
      finalRevision,
      resolveRevisionTarget(options.revision).release,
    );

    if (shape.release === 'none') {
      return result(
        'no-placement-source',
        `${source.display} has no placement tables (no resource_providers): there is nothing to copy.`,
        'A cloud deployed after placement was extracted keeps no placement data in nova_api. If this is the wrong database, check --source / [api_database] connection.',
        base,
        started,
      );
    }

    const sourceRows: Record<string, number> = {};
    for (const t of selected) {
      const layout = shape.layouts[t]!;
      sourceRows[t] = layout.present ? await countRows(src, source.dialect, t) : 0;
    }
    base.conditions = await findConditions(source, src, shape, target, {
      skipOrphans: options.skipOrphans,
    });
    const startPrint = await sourceDigest(src, source.dialect, pick(shape.layouts, selected));
    base.tables = selected.map((t) => ({
      table: t,
      inSource: shape.layouts[t]!.present,
      sourceRows: sourceRows[t] ?? 0,
      targetRows: targetRows[t] ?? 0,
      action: planAction(shape, state, t, sourceRows[t] ?? 0, targetRows[t] ?? 0),
    }));

    const totalSource = Object.values(sourceRows).reduce((a, b) => a + b, 0);
    // Without a single resource provider there is no placement data: what else
    // is left (standard traits, orphans of deleted providers) nova-compute and
    // placement recreate, and nothing would reference it.
    const providerRows = shape.layouts['resource_providers']!.present
      ? await countRows(src, source.dialect, 'resource_providers')
      : 0;
    if (providerRows === 0) {
      const leftovers = Object.entries(sourceRows).filter(([, n]) => n > 0);
      return result(
        'nothing-to-migrate',
        `${source.display} has no resource providers: there is no placement data to migrate${
          leftovers.length > 0
            ? ` (left alone: ${leftovers.map(([t, n]) => `${n} ${t}`).join(', ')})`
            : ''
        }.`,
        'Start placement on its own database: "placement-upgrade db sync" creates the schema.',
        base,
        started,
      );
    }
    const blocking = base.conditions.filter((c) => c.severity === 'blocking');
    if (blocking.length > 0) {
      return result(
        'blocked',
        `The target would refuse some source rows: ${blocking.map((c) => c.message).join('; ')}. Nothing was written.`,
        blocking
          .map((c) => c.hint)
          .filter(Boolean)
          .join(' '),
        base,
        started,
      );
    }

    const sourceSide = (t: string) => ({
      conn: src,
      dialect: source.dialect,
      layout: shape.layouts[t]!,
    });
    const targetSide = (
      t: string,
    ): { conn: Knex; dialect: typeof target.dialect; layout: TableLayout } => ({
      conn: target.knex,
      dialect: target.dialect,
      layout: { table: tableSpec(t), present: true, columns: [...tableSpec(t).columns] },
    });

    // A target copied and verified before, by an earlier migration (populated)
    // or by a run stopped in its online data migrations or schema upgrade
    // (an unfinished run in the finish phase): compare it with the source,
    // then do what is left of the finish.
    const finishing =
      state.kind === 'interrupted' && state.run.phase === 'finish' && !options.restart;
    if (state.kind === 'populated' || (finishing && options.apply)) {
      progress({
        type: 'step',
        step: 'compare',
        message: finishing
          ? 'The target holds a copied and verified run: comparing it with the source again'
          : 'The target holds data: comparing it with the source',
      });
      base.verification = await compareMigratedTables(src, source.dialect, shape, target, {
        tables: selected.filter((t) => shape.layouts[t]!.present || (targetRows[t] ?? 0) > 0),
        batchSize: options.batchSize,
        maxDifferences: options.maxDifferences,
        onProgress: progress,
      });
      const differing = base.verification.filter((v) => !v.equal);
      await endSnapshot();
      const differences = differing
        .map((d) => `${d.table} (${d.differenceCount} row(s))`)
        .join(', ');
      if (differing.length > 0 && finishing) {
        return result(
          'verification-failed',
          `${target.display} holds a migration copied and verified earlier, but the source now differs from it in ${differences}: nova wrote to nova_api since. Nothing was written.`,
          'Stop nova-placement-api (and every service writing placement data through nova), then re-run with --apply --restart to copy again.',
          base,
          started,
        );
      }
      if (differing.length > 0) {
        return result(
          'target-has-other-data',
          `${target.display} already holds placement data that differs from the source in ${differences}. Nothing was written.`,
          'If placement has been running on this database since an earlier migration, this is expected and there is nothing left to migrate. Otherwise point --target at an empty database (or drop and recreate this one).',
          base,
          started,
        );
      }
      const compared = `${base.verification.length} tables compared row by row, allowing for the online data migrations and placement's standard rows`;
      if (!options.apply) {
        const left = await finishWorkLeft(target, finalRevision);
        return left.length === 0
          ? result(
              'already-migrated',
              `${target.display} already holds exactly the source's placement data (${compared}), and its schema is at ${base.target.revision}.`,
              null,
              base,
              started,
            )
          : result(
              'planned',
              `${target.display} already holds exactly the source's placement data (${compared}). Still to do: ${left.join('; ')}. Nothing was written.`,
              'Re-run with --apply to finish.',
              base,
              started,
            );
      }
      base.finish = await withDatabaseErrors(target, 'finishing', () =>
        finish(target, options, progress),
      );
      if (finishing) await withDatabaseErrors(target, 'finishing', () => dropRun(target));
      const did = finishWorkDone(base.finish);
      const blocked = base.finish.pendingCommands.length > 0;
      if (!finishing && did.length === 0 && !blocked) {
        return result(
          'already-migrated',
          `${target.display} already holds exactly the source's placement data (${compared}), and its schema is at ${base.finish.schema?.to ?? base.target.revision}.`,
          null,
          base,
          started,
        );
      }
      return result(
        blocked ? 'finish-blocked' : 'migrated',
        `${target.display} already held the source's placement data (${compared}); finished the migration${did.length > 0 ? `: ${did.join('; ')}` : ''}.`,
        base.finish.pendingCommands.length > 0
          ? `Still to run: ${base.finish.pendingCommands.join(' ; then ')}`
          : null,
        base,
        started,
      );
    }

    if (state.kind === 'interrupted' && !options.apply) {
      const { run } = state;
      return result(
        'interrupted',
        `${target.display} holds an unfinished migrate run (started ${run.startedAt} from ${run.source}; ${
          run.phase === 'finish'
            ? 'copied and verified, the online data migrations and schema upgrade remain'
            : `still copying${run.plan.verified.length > 0 ? `, ${run.plan.verified.join(', ')} verified` : ''}`
        }). Nothing was written.`,
        'Re-run with --apply to resume it where it stopped (add --restart to empty its tables and copy again).',
        base,
        started,
      );
    }
    if (options.restart && state.kind !== 'interrupted') {
      throw new UsageError(
        '--restart only applies to a target that holds an interrupted migrate run.',
        'Without it, migrate never deletes rows it did not write.',
      );
    }
    if (!options.apply) {
      return result(
        'planned',
        `Plan only: ${totalSource} row(s) in ${selected.length} table(s) would be copied into ${target.display}. Nothing was written.`,
        'Re-run with --apply to copy, verify and finish.',
        base,
        started,
      );
    }

    // --- apply ---------------------------------------------------------------
    await withDatabaseErrors(target, 'preparing the target', async () => {
      const t = target.knex;
      if (state.kind !== 'interrupted') await createRun(target, source.display);
      else await upgradeRunTable(target);
      const tables = await target.dialect.listTables(t);
      const stamped =
        tables.includes(VERSION_TABLE) &&
        (await t(VERSION_TABLE).first('version_num')) !== undefined;
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
    const run = (await withDatabaseErrors(target, 'reading the run', () => readRun(target)))!;

    const orphanFilter = options.skipOrphans ? await orphanSets(src, shape) : null;
    const parallel = Math.max(
      1,
      Math.min(options.parallel ?? 1, target.dialect.maxConcurrentWriters),
    );
    const writers = parallel > 1 ? (options.writers ?? target.knex) : target.knex;
    const present = selected.filter((t) => shape.layouts[t]!.present);
    const units = await withDatabaseErrors(source, 'planning the copy', () =>
      planCopyUnits(src, source.dialect, present, sourceRows, {
        parallel,
        minRows: options.bulkMinRows ?? BULK_MIN_ROWS,
        recorded: run.plan.ranges,
      }),
    );
    // Recorded before any row of a table is written, so that a resume with
    // another --parallel still fills each range from its own greatest key.
    for (const table of present) {
      run.plan.ranges[table] ??= units
        .filter((u) => u.table === table)
        .map((u) => [u.range?.above ?? null, u.range?.upTo ?? null]);
    }
    await withDatabaseErrors(target, 'recording the plan', () =>
      saveRun(target, { plan: run.plan }),
    );
    const bulk = DEFERRED_INDEX_TABLES.filter(
      (t) => present.includes(t) && (sourceRows[t] ?? 0) >= (options.bulkMinRows ?? BULK_MIN_ROWS),
    );
    await withDatabaseErrors(target, 'dropping indexes to build after the copy', () =>
      dropDeferredIndexes(target, bulk),
    );
    // A bulk-loaded table's indexes are built as soon as its copy ends, while
    // the other tables are still copying.
    const indexBuilds: Promise<void>[] = [];
    const buildEarly = (t: string) => {
      if (!bulk.includes(t as (typeof bulk)[number])) return;
      const build = buildDeferredIndexes(target, writers, [t], progress);
      build.catch(() => undefined); // awaited below; this only keeps Node from calling it unhandled
      indexBuilds.push(build);
    };
    base.copied = await withDatabaseErrors(target, 'copying', () =>
      copyTables(
        units,
        sourceSide,
        { conn: writers, dialect: target.dialect },
        {
          batchSize: options.batchSize,
          parallel,
          totals: sourceRows,
          transformFor: (t) => rowTransform(t, orphanFilter),
          dependsOn: referencedTables,
          onTableDone: buildEarly,
          onProgress: progress,
        },
      ).finally(() => Promise.allSettled(indexBuilds)),
    );
    await withDatabaseErrors(target, 'building indexes', () => Promise.all(indexBuilds));
    if (
      selected.includes('resource_providers') &&
      shape.layouts['resource_providers']!.columns.includes('parent_provider_id')
    ) {
      await fixForwardReferences(src, target, orphanFilter);
    }
    for (const t of selected) {
      const spec = tableSpec(t);
      if (spec.autoincrement) await target.dialect.advanceSequence(target.knex, t, 'id');
    }
    // Always, not only after this run's drops: a killed run may have dropped them.
    await withDatabaseErrors(target, 'building indexes', () =>
      buildDeferredIndexes(target, writers, DEFERRED_INDEX_TABLES, progress),
    );

    progress({
      type: 'step',
      step: 'verify',
      message: 'Verifying every copied table against the snapshot',
    });
    for (const t of selected) {
      if (!shape.layouts[t]!.present) continue;
      const tolerance = skipTolerance(t, orphanFilter);
      const copied = base.copied.find((c) => c.table === t);
      if (!tolerance && copied?.sourceChecksum) {
        // The source side was hashed during the copy: read only the target.
        const mine = await checksumSide(
          { ...targetSide(t), conn: writers },
          {
            batchSize: options.batchSize,
            onProgress: progress,
            total: sourceRows[t],
            ranges: copied.slices.map((x) => x.range),
            parallel,
          },
        );
        if (mine.rows === copied.sourceRows && mine.checksum === copied.sourceChecksum) {
          base.verification.push({
            table: t,
            sourceRows: copied.sourceRows,
            targetRows: mine.rows,
            sourceChecksum: copied.sourceChecksum,
            targetChecksum: mine.checksum,
            equal: true,
            differences: [],
            differenceCount: 0,
            toleratedExtras: 0,
          });
          continue;
        }
      }
      // Resumed, tolerant, or different: compare row by row to name the differences.
      base.verification.push(
        await compareTable(sourceSide(t), targetSide(t), {
          batchSize: options.batchSize,
          maxDifferences: options.maxDifferences,
          tolerance,
          onProgress: progress,
          total: sourceRows[t],
        }),
      );
    }
    await endSnapshot();
    const endPrint = await sourceDigest(src, source.dialect, pick(shape.layouts, selected));
    base.sourceChangedDuringCopy = Object.keys(startPrint).filter(
      (t) => startPrint[t] !== endPrint[t],
    );
    const differing = base.verification.filter((v) => !v.equal);
    if (differing.length > 0 || base.sourceChangedDuringCopy.length > 0) {
      const parts = [
        ...differing.map(
          (d) =>
            `${d.table}: ${d.differenceCount} row(s) differ (first: ${d.differences[0]?.key ?? '?'})`,
        ),
        ...(base.sourceChangedDuringCopy.length > 0
          ? [`nova changed ${base.sourceChangedDuringCopy.join(', ')} while the copy ran`]
          : []),
      ];
      return result(
        'verification-failed',
        `Verification failed: ${parts.join('; ')}. The target keeps its rows and is marked as an interrupted run.`,
        base.sourceChangedDuringCopy.length > 0
          ? 'Stop nova-placement-api (and every service writing placement data through nova), then re-run with --apply --restart.'
          : 'Re-run with --apply --restart to copy again; if it fails again, report the differences shown.',
        base,
        started,
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
      return result(
        'tables-copied',
        `Copied ${rowsCopied} row(s) of ${selected.join(', ')} and verified them: counts and checksums equal. The migration is not finished: ${left.join(', ')} still to copy, then the online data migrations and the schema upgrade.`,
        'Run migrate --apply again without --tables (or with the remaining tables) to copy the rest and finish; until then the other commands refuse this database.',
        base,
        started,
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
    return result(
      pending.length > 0 ? 'finish-blocked' : 'migrated',
      `Copied ${rowsCopied} row(s) in ${base.copied.length} table(s) and verified ${base.verification.length} table(s): counts and checksums equal.${
        base.finish.schema ? ` Schema at ${base.finish.schema.to}.` : ''
      }`,
      pending.length > 0 ? `Still to run: ${pending.join(' ; then ')}` : null,
      base,
      started,
    );
  } finally {
    await endSnapshot().catch(() => undefined);
  }
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

function pick(
  layouts: Record<string, TableLayout>,
  names: readonly string[],
): Record<string, TableLayout> {
  return Object.fromEntries(names.map((n) => [n, layouts[n]!]));
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
    return `resume: ${Math.max(0, rows - targetRows)} of ${rows} row(s) left`;
  const extra = shape.extraColumns[table];
  return `copy ${rows} row(s)${extra ? ` (without ${extra.join(', ')})` : ''}`;
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

/** Ids that exist, for --skip-orphans. */
interface OrphanSets {
  providers: Set<number>;
  traits: Set<number>;
}

async function orphanSets(conn: Knex, shape: SourceShape): Promise<OrphanSets> {
  const ids = async (t: string) =>
    new Set(
      shape.layouts[t]?.present ? ((await conn(t).pluck('id')) as unknown[]).map(Number) : [],
    );
  return { providers: await ids('resource_providers'), traits: await ids('traits') };
}

/**
 * Per-row changes made while copying: references to providers with a
 * greater id are written NULL and fixed once every provider exists (a
 * re-parented tree can point forward), and --skip-orphans drops or NULLs
 * what placement's foreign keys refuse.
 */
/**
 * The two tables whose plain (non-unique) indexes a bulk load builds after
 * the copy instead of maintaining row by row: one sorted build costs a
 * fraction (1M allocations on MariaDB: 11.9 s to insert with the indexes;
 * 3.3 s without, plus 3.1 s to build them). No later revision drops or renames
 * these indexes, so the initial revision's list is what every target
 * revision expects, and a resumed run can rebuild what a killed one dropped.
 */
const DEFERRED_INDEX_TABLES = ['allocations', 'consumers'] as const;

function deferredIndexes(table: string): IndexDef[] {
  return INITIAL_TABLES.find((d) => d.name === table)?.indexes ?? [];
}

async function dropDeferredIndexes(target: Database, tables: readonly string[]): Promise<void> {
  if (tables.length === 0) return;
  const snapshot = await target.dialect.introspect(target.knex);
  for (const table of tables) {
    const present = new Set(snapshot.tables[table]?.indexes.map((i) => i.name));
    for (const index of deferredIndexes(table)) {
      if (present.has(index.name))
        await target.knex.raw(target.dialect.dropIndexSql(table, index.name));
    }
  }
}

/** The deferred indexes of `tables` that the target lacks. */
async function missingDeferredIndexes(
  target: Database,
  tables: readonly string[],
): Promise<{ table: string; indexes: IndexDef[] }[]> {
  const snapshot = await target.dialect.introspect(target.knex);
  return tables
    .map((table) => {
      const present = new Set(snapshot.tables[table]?.indexes.map((i) => i.name));
      return { table, indexes: deferredIndexes(table).filter((i) => !present.has(i.name)) };
    })
    .filter((m) => m.indexes.length > 0);
}

/** Builds a table's missing deferred indexes, in one pass where the engine can. */
async function buildDeferredIndexes(
  target: Database,
  writers: Knex,
  tables: readonly string[],
  progress: ProgressListener,
): Promise<void> {
  const missing = await missingDeferredIndexes(target, tables);
  if (missing.length === 0) return;
  progress({
    type: 'step',
    step: 'indexes',
    message: `Building the index(es) of ${missing.map((m) => m.table).join(', ')} deferred during the copy`,
  });
  // One table per writer connection at once.
  await Promise.all(
    missing.map(async ({ table, indexes }) => {
      for (const sql of target.dialect.createIndexesSql(table, indexes)) await writers.raw(sql);
    }),
  );
}

/** Tables whose rows `table` references by foreign key (itself aside): copied first. */
function referencedTables(table: string): string[] {
  const def = INITIAL_TABLES.find((d) => d.name === table);
  return [...new Set((def?.foreignKeys ?? []).map((f) => f.refTable))].filter((t) => t !== table);
}

/** A table worth loading in bulk by default (slices, deferred indexes): this many rows or more. */
const BULK_MIN_ROWS = 50_000;

/**
 * The units of work of the copy: with several writers, each large table with
 * a single integer key that no foreign key touches (allocations, consumers,
 * inventories …) is cut into one key range per writer; everything else is
 * copied whole. Largest first, so the writers finish together.
 */
async function planCopyUnits(
  conn: Knex,
  dialect: Database['dialect'],
  tables: readonly string[],
  rows: Record<string, number>,
  {
    parallel,
    minRows,
    recorded,
  }: { parallel: number; minRows: number; recorded: RunPlan['ranges'] },
): Promise<CopyUnit[]> {
  const units: (CopyUnit & { size: number })[] = [];
  // A table an earlier run started is cut as that run cut it.
  const fresh: string[] = [];
  for (const table of tables) {
    const ranges = recorded[table];
    if (!ranges) fresh.push(table);
    else {
      for (const [above, upTo] of ranges) {
        const range = above === null && upTo === null ? null : { above, upTo };
        units.push({ table, range, size: (rows[table] ?? 0) / ranges.length });
      }
    }
  }
  if (parallel <= 1)
    units.push(...fresh.map((table) => ({ table, range: null, size: rows[table] ?? 0 })));
  else await splitLargeTables(conn, dialect, fresh, rows, { parallel, minRows }, units);
  return units.sort((a, b) => b.size - a.size).map(({ table, range }) => ({ table, range }));
}

async function splitLargeTables(
  conn: Knex,
  dialect: Database['dialect'],
  tables: readonly string[],
  rows: Record<string, number>,
  { parallel, minRows }: { parallel: number; minRows: number },
  units: (CopyUnit & { size: number })[],
): Promise<void> {
  const touchedByKeys = new Set(
    INITIAL_TABLES.flatMap((d) => (d.foreignKeys ?? []).flatMap((f) => [d.name, f.refTable])),
  );
  for (const table of tables) {
    const spec = tableSpec(table);
    const n = rows[table] ?? 0;
    if (n < minRows || spec.key.length !== 1 || !spec.autoincrement || touchedByKeys.has(table)) {
      units.push({ table, range: null, size: n });
      continue;
    }
    const key = dialect.quote(spec.key[0]!);
    const [b] = dialect.rows<{ lo: number | string | null; hi: number | string | null }>(
      await conn.raw(`SELECT MIN(${key}) AS lo, MAX(${key}) AS hi FROM ${dialect.quote(table)}`),
    );
    const ranges = splitKeyRange(Number(b?.lo ?? 0), Number(b?.hi ?? 0), parallel);
    for (const range of ranges) units.push({ table, range, size: n / ranges.length });
  }
}

function rowTransform(
  table: string,
  orphans: OrphanSets | null,
): ((row: Row) => Row | null) | undefined {
  if (table === 'resource_providers') {
    return (row) => {
      const id = Number(row['id']);
      for (const col of ['parent_provider_id', 'root_provider_id']) {
        const ref = row[col];
        if (ref == null) continue;
        if (orphans && !orphans.providers.has(Number(ref))) row[col] = null;
        else if (Number(ref) > id) row[col] = null;
      }
      return row;
    };
  }
  if (table === 'resource_provider_traits' && orphans) {
    return (row) =>
      orphans.providers.has(Number(row['resource_provider_id'])) &&
      orphans.traits.has(Number(row['trait_id']))
        ? row
        : null;
  }
  return undefined;
}

/** What verification accepts after --skip-orphans, and nothing else. */
function skipTolerance(table: string, orphans: OrphanSets | null): Tolerance | undefined {
  if (!orphans) return undefined;
  if (table === 'resource_providers') {
    return {
      normalise: (r) => {
        const out = { ...r };
        for (const col of ['parent_provider_id', 'root_provider_id']) {
          if (out[col] != null && !orphans.providers.has(Number(out[col]))) out[col] = null;
        }
        return out;
      },
    };
  }
  if (table === 'resource_provider_traits') {
    return {
      acceptMissing: (r) =>
        !orphans.providers.has(Number(r['resource_provider_id'])) ||
        !orphans.traits.has(Number(r['trait_id'])),
    };
  }
  return undefined;
}

/** Writes the parent/root references that pointed forward, now that every provider exists. */
async function fixForwardReferences(
  src: Knex,
  target: Database,
  orphans: OrphanSets | null,
): Promise<void> {
  const rows = (await src('resource_providers')
    .where((w) => w.whereRaw('parent_provider_id > id').orWhereRaw('root_provider_id > id'))
    .select('id', 'parent_provider_id', 'root_provider_id')) as Row[];
  for (const row of rows) {
    const fix: Row = {};
    for (const col of ['parent_provider_id', 'root_provider_id']) {
      const ref = row[col];
      if (ref == null || (orphans && !orphans.providers.has(Number(ref)))) continue;
      fix[col] = ref;
    }
    if (Object.keys(fix).length > 0)
      await target.knex('resource_providers').where({ id: row['id'] }).update(fix);
  }
}

/** The Train revision after which no row can need the online data migrations. */
const LAST_BLOCKER = 'b5c396305c25';

/** Whether finish() would run the online data migrations on a target at `current`. */
function needsOnlineMigrations(current: string | null, final: string): boolean {
  return (
    revisionIndex(final) > revisionIndex(INITIAL_REVISION) &&
    revisionIndex(current) < revisionIndex(LAST_BLOCKER)
  );
}

/** What finish() would still do to a target that holds the source's data (plan only). */
async function finishWorkLeft(target: Database, final: string): Promise<string[]> {
  const current = await readSchemaRevision(target);
  const left: string[] = [];
  if (needsOnlineMigrations(current, final)) {
    const pending = await withDatabaseErrors(target, 'counting the online data migrations', () =>
      countOnlineMigrationRows(target.knex),
    );
    if (pending > 0) left.push(`the online data migrations (${pending} row(s))`);
  }
  if (revisionIndex(current) < revisionIndex(final))
    left.push(`the schema upgrade from ${current ?? 'none'} to ${final}`);
  return left;
}

/** What finish() changed, in words; empty when it found nothing to do. */
function finishWorkDone(done: NonNullable<MigrateResult['finish']>): string[] {
  const out: string[] = [];
  const rows = done.onlineMigrations?.migrations.reduce((a, m) => a + m.done, 0) ?? 0;
  if (rows > 0) out.push(`the online data migrations fixed ${rows} row(s)`);
  if (done.schema && !done.schema.upToDate)
    out.push(`upgraded the schema from ${done.schema.from ?? 'none'} to ${done.schema.to}`);
  return out;
}

/**
 * Runs the online data migrations while the target is before the Train
 * blockers (they are idempotent: a resumed run does what a killed one left),
 * then upgrades the schema to the requested revision, so the blockers pass.
 */
async function finish(
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
    progress({
      type: 'step',
      step: 'online-migrations',
      message:
        'Running the online data migrations (set_root_provider_ids, create_incomplete_consumers)',
    });
    onlineMigrations = await runOnlineDataMigrations(target, {
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
