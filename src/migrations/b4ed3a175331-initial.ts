import { float, idColumn, integer, timestamps, varchar, type TableDef } from '../schema/model.js';
import type { Revision } from './revision.js';

/**
 * The tables as placement 1.0.0 (Stein) created them: identical to nova_api's
 * at Rocky–Train minus `can_host`, in the order alembic creates them.
 */
export const INITIAL_TABLES: readonly TableDef[] = [
  {
    name: 'allocations',
    columns: [
      ...timestamps(),
      idColumn(),
      integer('resource_provider_id', false),
      varchar('consumer_id', 36, false),
      integer('resource_class_id', false),
      integer('used', false),
    ],
    primaryKey: ['id'],
    indexes: [
      {
        name: 'allocations_resource_provider_class_used_idx',
        columns: ['resource_provider_id', 'resource_class_id', 'used'],
      },
      { name: 'allocations_resource_class_id_idx', columns: ['resource_class_id'] },
      { name: 'allocations_consumer_id_idx', columns: ['consumer_id'] },
    ],
  },
  {
    name: 'consumers',
    columns: [
      ...timestamps(),
      idColumn(),
      varchar('uuid', 36, false),
      integer('project_id', false),
      integer('user_id', false),
      integer('generation', false, { serverDefault: '0' }),
    ],
    primaryKey: ['id'],
    uniques: [{ name: 'uniq_consumers0uuid', columns: ['uuid'] }],
    indexes: [
      { name: 'consumers_project_id_user_id_uuid_idx', columns: ['project_id', 'user_id', 'uuid'] },
      { name: 'consumers_project_id_uuid_idx', columns: ['project_id', 'uuid'] },
    ],
  },
  {
    name: 'inventories',
    columns: [
      ...timestamps(),
      idColumn(),
      integer('resource_provider_id', false),
      integer('resource_class_id', false),
      integer('total', false),
      integer('reserved', false),
      integer('min_unit', false),
      integer('max_unit', false),
      integer('step_size', false),
      float('allocation_ratio', false),
    ],
    primaryKey: ['id'],
    uniques: [
      {
        name: 'uniq_inventories0resource_provider_resource_class',
        columns: ['resource_provider_id', 'resource_class_id'],
      },
    ],
    indexes: [
      { name: 'inventories_resource_class_id_idx', columns: ['resource_class_id'] },
      { name: 'inventories_resource_provider_id_idx', columns: ['resource_provider_id'] },
      {
        name: 'inventories_resource_provider_resource_class_idx',
        columns: ['resource_provider_id', 'resource_class_id'],
      },
    ],
  },
  {
    name: 'placement_aggregates',
    columns: [...timestamps(), idColumn(), varchar('uuid', 36, true)],
    primaryKey: ['id'],
    uniques: [{ name: 'uniq_placement_aggregates0uuid', columns: ['uuid'] }],
    indexes: [{ name: 'ix_placement_aggregates_uuid', columns: ['uuid'] }],
  },
  {
    name: 'projects',
    columns: [...timestamps(), idColumn(), varchar('external_id', 255, false)],
    primaryKey: ['id'],
    uniques: [{ name: 'uniq_projects0external_id', columns: ['external_id'] }],
  },
  {
    name: 'resource_classes',
    columns: [...timestamps(), idColumn(), varchar('name', 255, false)],
    primaryKey: ['id'],
    uniques: [{ name: 'uniq_resource_classes0name', columns: ['name'] }],
  },
  {
    name: 'resource_provider_aggregates',
    columns: [
      ...timestamps(),
      integer('resource_provider_id', false),
      integer('aggregate_id', false),
    ],
    primaryKey: ['resource_provider_id', 'aggregate_id'],
    indexes: [{ name: 'resource_provider_aggregates_aggregate_id_idx', columns: ['aggregate_id'] }],
  },
  {
    name: 'resource_providers',
    columns: [
      ...timestamps(),
      idColumn(),
      varchar('uuid', 36, false),
      varchar('name', 200, true),
      integer('generation'),
      integer('root_provider_id'),
      integer('parent_provider_id'),
    ],
    primaryKey: ['id'],
    foreignKeys: [
      { columns: ['parent_provider_id'], refTable: 'resource_providers', refColumns: ['id'] },
      { columns: ['root_provider_id'], refTable: 'resource_providers', refColumns: ['id'] },
    ],
    uniques: [
      { name: 'uniq_resource_providers0name', columns: ['name'] },
      { name: 'uniq_resource_providers0uuid', columns: ['uuid'] },
    ],
    indexes: [
      { name: 'resource_providers_name_idx', columns: ['name'] },
      { name: 'resource_providers_parent_provider_id_idx', columns: ['parent_provider_id'] },
      { name: 'resource_providers_root_provider_id_idx', columns: ['root_provider_id'] },
      { name: 'resource_providers_uuid_idx', columns: ['uuid'] },
    ],
  },
  {
    name: 'traits',
    columns: [...timestamps(), idColumn(), varchar('name', 255, false)],
    primaryKey: ['id'],
    uniques: [{ name: 'uniq_traits0name', columns: ['name'] }],
  },
  {
    name: 'users',
    columns: [...timestamps(), idColumn(), varchar('external_id', 255, false)],
    primaryKey: ['id'],
    uniques: [{ name: 'uniq_users0external_id', columns: ['external_id'] }],
  },
  {
    name: 'resource_provider_traits',
    columns: [...timestamps(), integer('trait_id', false), integer('resource_provider_id', false)],
    primaryKey: ['trait_id', 'resource_provider_id'],
    foreignKeys: [
      { columns: ['resource_provider_id'], refTable: 'resource_providers', refColumns: ['id'] },
      { columns: ['trait_id'], refTable: 'traits', refColumns: ['id'] },
    ],
    indexes: [
      {
        name: 'resource_provider_traits_resource_provider_trait_idx',
        columns: ['resource_provider_id', 'trait_id'],
      },
    ],
  },
];

export const initial: Revision = {
  id: 'b4ed3a175331',
  down: null,
  since: 'stein',
  description: 'Initial placement schema (the eleven tables extracted from nova_api)',
  async upgrade(ops) {
    for (const table of INITIAL_TABLES) await ops.createTable(table);
  },
};
