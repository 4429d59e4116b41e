import { DataBlocksUpgradeError } from '../errors/errors.js';
import type { Revision } from './revision.js';

/** Train's blocker: no schema change, but refuses while any provider lacks a root. */
export const blockOnNullRootProviderId: Revision = {
  id: '611cd6dffd7b',
  down: 'b4ed3a175331',
  since: 'train',
  description: 'Blocker: every resource provider must have a root_provider_id',
  async upgrade(ops) {
    const row = await ops
      .db('resource_providers')
      .whereNull('root_provider_id')
      .count({ n: '*' })
      .first();
    const n = Number(row?.['n'] ?? 0);
    if (n > 0) {
      throw new DataBlocksUpgradeError(
        `${n} resource provider${n === 1 ? ' has' : 's have'} no root_provider_id, so revision 611cd6dffd7b (Train) cannot be applied.`,
        'Run "placement-upgrade db online-data-migrations" (or placement-manage db online_data_migrations) to fill them in, then run db sync again.',
        { revision: '611cd6dffd7b', rows: n, migration: 'set_root_provider_ids' },
      );
    }
  },
};
