/**
 * The plan of a migrate run: the source's rows and conditions, what each
 * table will get, and the outcome of a run without --apply.
 */
import { UsageError } from '../errors/errors.js';
import { findConditions } from './conditions.js';
import { type MigrateResult } from './outcome.js';
import { countRows } from './reader.js';
import { type SourceShape } from './source.js';
import { type TargetState } from './target.js';
import { count, formatNumber } from '../text/count.js';
import { type RunContext } from './run-context.js';

/**
 * Phase 3: row counts, the conditions old clouds carry and the source's
 * digest, all inside the snapshot; a source without providers has nothing
 * to migrate, and rows the target would refuse block the copy.
 */
export async function plan(ctx: RunContext): Promise<MigrateResult | null> {
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

/** Without --apply the run ends here: the plan, or the interrupted run it found. */
export function planOutcome(ctx: RunContext): MigrateResult | null {
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
