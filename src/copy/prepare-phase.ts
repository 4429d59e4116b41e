/**
 * Preparing the target of a migrate run: placement's schema at the initial
 * revision and the run's marker, or the marker an interrupted run left.
 */
import { withDatabaseErrors } from '../db/errors.js';
import { INITIAL_TABLES } from '../migrations/b4ed3a175331-initial.js';
import { INITIAL_REVISION } from '../migrations/index.js';
import { syncSchema, VERSION_TABLE } from '../schema/migrator.js';
import { countRows } from './reader.js';
import { COPY_ORDER } from './tables.js';
import {
  createRun,
  readRun,
  removeStartupRows,
  saveRun,
  upgradeRunTable,
  type RunRecord,
} from './target.js';
import { type RunContext } from './run-context.js';

/**
 * Phase 4 (apply): the marker first, then placement's schema at the initial
 * revision (rebuilt when an interrupted MySQL run left part of it), the
 * start-up rows out of the way, and with --restart the interrupted run's
 * rows gone. Returns the run's record.
 */
export async function prepareTarget(ctx: RunContext): Promise<RunRecord> {
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
