/**
 * The first phases of a migrate run: inspect both sides inside the source's
 * snapshot (what the source is, what the target holds) and refuse, before
 * anything is written, what cannot be migrated.
 */
import { CLUSTER_LOCK_TABLE } from '../db/dialect/galera.js';
import { type Database } from '../db/connect.js';
import { withDatabaseErrors } from '../db/errors.js';
import { resolveRevisionTarget } from '../migrations/index.js';
import {
  looksLikeNovaApi,
  PLACEMENT_TABLES,
  refuseUpgrade,
  VERSION_TABLE,
} from '../schema/migrator.js';
import { result, type MigrateOptions, type MigrateResult } from './outcome.js';
import { describeSource, readNovaSchemaVersion } from './source.js';
import { classifyTarget, RUN_TABLE } from './target.js';
import { type ResultBase, type RunContext } from './run-context.js';

/** Phase 1: what the source is (inside the snapshot) and what the target holds. */
export async function inspect(
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
export function refuseMismatches(ctx: RunContext): MigrateResult | null {
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
