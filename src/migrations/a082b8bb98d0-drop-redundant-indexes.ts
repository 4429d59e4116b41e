import type { Revision } from './revision.js';

/** 2023.2: drops indexes that duplicate a unique constraint's index. */
export const dropRedundantIndexes: Revision = {
  id: 'a082b8bb98d0',
  down: '422ece571366',
  since: '2023.2',
  description: 'Drop indexes made redundant by unique constraints',
  async upgrade(ops) {
    await ops.dropIndex('inventories', 'inventories_resource_provider_id_idx');
    await ops.dropIndex('inventories', 'inventories_resource_provider_resource_class_idx');
    await ops.dropIndex('placement_aggregates', 'ix_placement_aggregates_uuid');
    await ops.dropIndex('resource_providers', 'resource_providers_name_idx');
    await ops.dropIndex('resource_providers', 'resource_providers_uuid_idx');
  },
};
