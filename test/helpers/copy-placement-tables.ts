/**
 * A plain, deliberately simple migration for the verify tests: copy the
 * placement tables of a nova_api-shaped database into a fresh placement
 * database, then make the two changes placement's own migrations make
 * (NULL roots become the provider itself; allocations without a consumer
 * get an incomplete consumer); optionally add the standard traits and
 * classes as a placement service does when it starts. The real `migrate`
 * is another issue's; this only gives `verify` correct and damaged targets.
 */
import type { Database } from '../../src/db/connect.js';
import { syncStandardData } from '../../src/api/standard-sync.js';
import { syncSchema } from '../../src/schema/migrator.js';

const TABLES = [
  'resource_classes',
  'traits',
  'placement_aggregates',
  'resource_providers',
  'inventories',
  'resource_provider_traits',
  'resource_provider_aggregates',
  'projects',
  'users',
  'consumers',
  'allocations',
];

export const INCOMPLETE = '00000000-0000-0000-0000-000000000000';

export async function copyPlacementTables(
  source: Database,
  target: Database,
  options: { placementStarted?: boolean } = {},
): Promise<void> {
  await syncSchema(target, { target: 'zed' });
  const present = await source.dialect.listTables(source.knex);
  for (const table of TABLES) {
    if (!present.includes(table)) continue;
    const targetColumns = new Set(Object.keys(await target.knex(table).columnInfo()));
    const rows = (await source.knex(table).select()) as Record<string, unknown>[];
    const kept = rows.map((r) =>
      Object.fromEntries(Object.entries(r).filter(([k]) => targetColumns.has(k))),
    );
    if (kept.length > 0) await target.knex.batchInsert(table, kept, 200);
  }
  const k = target.knex;
  await k('resource_providers')
    .whereNull('root_provider_id')
    .update({ root_provider_id: k.ref('id') });
  const missing = (await k('allocations')
    .distinct('consumer_id')
    .whereNotIn('consumer_id', k('consumers').select('uuid'))) as { consumer_id: string }[];
  if (missing.length > 0) {
    const ensure = async (table: 'projects' | 'users') => {
      const row = await k(table).where({ external_id: INCOMPLETE }).first();
      if (row) return Number(row.id);
      const [max] = await k(table).max({ m: 'id' });
      const id = Number((max as { m: number | null }).m ?? 0) + 1;
      await k(table).insert({ id, external_id: INCOMPLETE });
      return id;
    };
    const project = await ensure('projects');
    const user = await ensure('users');
    const [max] = await k('consumers').max({ m: 'id' });
    let id = Number((max as { m: number | null }).m ?? 0);
    await k.batchInsert(
      'consumers',
      missing.map((m) => ({
        id: ++id,
        uuid: m.consumer_id,
        project_id: project,
        user_id: user,
        generation: 0,
      })),
      200,
    );
  }
  if (options.placementStarted) await syncStandardData(target);
}
