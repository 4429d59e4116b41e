import { INITIAL_TABLES } from '../migrations/b4ed3a175331-initial.js';
import type { ColumnType, TableDef } from '../schema/model.js';

/** One placement table as the copy sees it: placement's columns, its key, its kinds. */
export interface CopyTable {
  name: string;
  /** Columns of placement's initial schema, in order. */
  columns: readonly string[];
  kinds: Readonly<Record<string, ColumnType['kind']>>;
  /** The primary key, used for keyset pagination, resume and ordered checksums. */
  key: readonly string[];
  /** True when the id is numbered by the database (its sequence must be advanced). */
  autoincrement: boolean;
  /** Values for columns an older nova_api does not have yet. */
  defaults: Readonly<Record<string, unknown>>;
}

/** What older nova_api releases lack, and what placement expects instead. */
const DEFAULTS: Record<string, Record<string, unknown>> = {
  // Rocky added consumers.generation NOT NULL DEFAULT 0.
  consumers: { generation: 0 },
  // Queens added the tree columns; a pre-Queens provider is its own root
  // (set by the online migration set_root_provider_ids, not by the copy).
  resource_providers: { root_provider_id: null, parent_provider_id: null },
};

function fromDef(def: TableDef): CopyTable {
  return {
    name: def.name,
    columns: def.columns.map((c) => c.name),
    kinds: Object.fromEntries(def.columns.map((c) => [c.name, c.type.kind])),
    key: def.primaryKey,
    autoincrement: def.columns.some((c) => c.autoincrement),
    defaults: { created_at: null, updated_at: null, ...(DEFAULTS[def.name] ?? {}) },
  };
}

const BY_NAME = new Map(INITIAL_TABLES.map((t) => [t.name, fromDef(t)]));

/**
 * The eleven tables, in an order that satisfies placement's foreign keys:
 * traits and providers before the links between them.
 */
export const COPY_ORDER: readonly string[] = [
  'resource_classes',
  'traits',
  'projects',
  'users',
  'placement_aggregates',
  'resource_providers',
  'inventories',
  'allocations',
  'consumers',
  'resource_provider_aggregates',
  'resource_provider_traits',
];

export const COPY_TABLES: readonly CopyTable[] = COPY_ORDER.map((n) => BY_NAME.get(n)!);

/** Looks a copy table up by name. */
export function copyTable(name: string): CopyTable {
  const t = BY_NAME.get(name);
  if (!t) throw new Error(`not a placement table: ${name}`);
  return t;
}
