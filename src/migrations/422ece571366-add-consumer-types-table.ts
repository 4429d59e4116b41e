import { idColumn, integer, timestamps, varchar } from '../schema/model.js';
import type { Revision } from './revision.js';

/** Xena: consumer types (microversion 1.38) and consumers.consumer_type_id. */
export const addConsumerTypesTable: Revision = {
  id: '422ece571366',
  down: 'b5c396305c25',
  since: 'xena',
  description: 'Add the consumer_types table and consumers.consumer_type_id',
  async upgrade(ops) {
    await ops.createTable({
      name: 'consumer_types',
      columns: [...timestamps(), idColumn(), varchar('name', 255, false)],
      primaryKey: ['id'],
      uniques: [{ name: 'uniq_consumer_types0name', columns: ['name'] }],
    });
    await ops.addColumn('consumers', integer('consumer_type_id', true), {
      name: 'consumers_consumer_type_id_fkey',
      columns: ['consumer_type_id'],
      refTable: 'consumer_types',
      refColumns: ['id'],
    });
    await ops.createIndex('consumers', {
      name: 'consumers_consumer_type_id_idx',
      columns: ['consumer_type_id'],
    });
  },
};
