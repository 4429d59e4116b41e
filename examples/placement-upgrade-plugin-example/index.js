// @ts-check
/**
 * An example placement-upgrade plugin. Load it with
 *   placement-upgrade upgrade check --plugin placement-upgrade-plugin-example
 *   placement-upgrade db online-data-migrations --plugin placement-upgrade-plugin-example
 * or name it in placement.conf: [placement_upgrade] plugins = placement-upgrade-plugin-example
 */
import { definePlugin, success, warning, plural } from 'placement-upgrade/plugin';

/** @type {import('placement-upgrade/plugin').UpgradeCheck} */
const providersWithoutInventory = {
  title: 'Providers Without Inventory',
  async run({ database: { knex } }) {
    const row = await knex('resource_providers as rp')
      .leftJoin('inventories as i', 'i.resource_provider_id', 'rp.id')
      .whereNull('i.id')
      .countDistinct({ n: 'rp.id' })
      .first();
    const n = Number(row?.n ?? 0);
    if (n === 0) return success();
    return warning(
      `${plural(n, 'resource provider')} without inventory: nothing can be scheduled there. ` +
        'Check that nova-compute reports on those hosts, or delete the providers.',
    );
  },
};

/**
 * Provider names with leading or trailing blanks (typed by hand, long ago)
 * are trimmed, a batch at a time, as placement-manage runs a migration.
 * @type {import('placement-upgrade/plugin').OnlineDataMigration}
 */
const trimProviderNames = {
  name: 'trim_provider_names',
  summary: 'Trim leading and trailing blanks from resource provider names.',
  start({ database: { knex } }) {
    return async (batchSize) => {
      const rows = await knex('resource_providers')
        .whereRaw('name <> TRIM(name)')
        .orderBy('id')
        .limit(batchSize)
        .select('id', 'name');
      let done = 0;
      for (const { id, name } of rows) {
        done += await knex('resource_providers')
          .where({ id, name })
          .update({ name: String(name).trim() });
      }
      return { found: rows.length, done };
    };
  },
};

export default definePlugin({
  name: 'example',
  checks: [providersWithoutInventory],
  onlineDataMigrations: [trimProviderNames],
});
