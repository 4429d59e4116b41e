import { DataBlocksUpgradeError } from '../errors/errors.js';
import type { Revision } from './revision.js';

/** Train's second blocker: refuses while any allocation has no consumers row. */
export const blockOnNullConsumer: Revision = {
  id: 'b5c396305c25',
  down: '611cd6dffd7b',
  since: 'train',
  description: 'Blocker: every allocation must have a consumers row',
  async upgrade(ops) {
    const row = await ops
      .db('allocations as a')
      .leftJoin('consumers as c', 'a.consumer_id', 'c.uuid')
      .whereNull('c.id')
      .count({ n: '*' })
      .first();
    const n = Number(row?.['n'] ?? 0);
    if (n > 0) {
      throw new DataBlocksUpgradeError(
        `${n} allocation${n === 1 ? ' has' : 's have'} no consumers row, so revision b5c396305c25 (Train) cannot be applied.`,
        'Run "placement-upgrade db online-data-migrations" (or placement-manage db online_data_migrations) to create the incomplete consumers, then run db sync again.',
        { revision: 'b5c396305c25', rows: n, migration: 'create_incomplete_consumers' },
      );
    }
  },
};
