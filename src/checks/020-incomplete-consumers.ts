import { success, warning, type UpgradeCheck } from './types.js';

/**
 * placement-status's check: allocations made before consumers existed have
 * no consumers row; Train's schema refuses them until the online data
 * migrations create the "incomplete" consumers.
 */
const incompleteConsumers: UpgradeCheck = {
  title: 'Incomplete Consumers',
  gate: 'placement',
  async run({ database: { knex } }) {
    const row = (await knex('allocations as a')
      .leftJoin('consumers as c', 'c.uuid', 'a.consumer_id')
      .whereNull('c.id')
      .countDistinct({ n: 'a.consumer_id' })
      .first()) as { n: number | string } | undefined;
    const missing = Number(row?.n ?? 0);
    if (missing === 0) return success();
    return warning(
      `There ${missing === 1 ? 'is 1 consumer' : `are ${missing} consumers`} with allocations ` +
        'but no consumers table record. Run "placement-upgrade db online-data-migrations" (or ' +
        '"placement-manage db online_data_migrations") to create them.',
    );
  },
};

export default incompleteConsumers;
