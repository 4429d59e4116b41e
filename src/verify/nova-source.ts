/**
 * Reads the placement tables of a nova_api database of any release, Newton
 * to current: tables and columns that a release did not have yet (traits,
 * consumers, projects, users, the nesting columns, consumers.generation)
 * read as absent, not as errors.
 */
import type { Database } from '../db/connect.js';
import { INVENTORY_FIELDS } from '../api/store/inventories.js';

export interface SourceProvider {
  id: number;
  uuid: string;
  name: string | null;
  generation: number | null;
  /** Undefined when the release had no nesting columns (before Queens). */
  rootProviderId?: number | null;
  parentProviderId?: number | null;
}

export interface SourceInventory {
  resourceProviderId: number;
  resourceClassId: number;
  total: number;
  reserved: number;
  minUnit: number;
  maxUnit: number;
  stepSize: number;
  allocationRatio: number;
}

export interface SourceAllocation {
  resourceProviderId: number;
  consumerId: string;
  resourceClassId: number;
  used: number;
}

export interface SourceConsumer {
  projectId: number;
  userId: number;
  /** 0 when the release had no consumers.generation (before Rocky). */
  generation: number;
}

/** The placement data of a nova_api database, as rows. */
export interface NovaPlacementData {
  /** Which optional tables exist, for the report. */
  tables: string[];
  providers: SourceProvider[];
  inventories: SourceInventory[];
  allocations: SourceAllocation[];
  /** Custom resource classes by id (nova never stored the standard ones). */
  customClasses: Map<number, string>;
  aggregates: Map<number, string>;
  providerAggregates: { resourceProviderId: number; aggregateId: number }[];
  traits: Map<number, string>;
  providerTraits: { resourceProviderId: number; traitId: number }[];
  consumers: Map<string, SourceConsumer>;
  projects: Map<number, string>;
  users: Map<number, string>;
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Reads everything verify needs from the source, tolerating older releases. */
export async function readNovaPlacementData(db: Database): Promise<NovaPlacementData> {
  const tables = await db.dialect.listTables(db.knex);
  const has = (t: string) => tables.includes(t);
  const columnsOf = async (t: string) => Object.keys(await db.knex(t).columnInfo());
  const rows = async (t: string, wanted: string[]): Promise<Record<string, unknown>[]> => {
    if (!has(t)) return [];
    const present = new Set(await columnsOf(t));
    const cols = wanted.filter((c) => present.has(c));
    return (await db.knex(t).select(cols)) as Record<string, unknown>[];
  };

  const providerCols = new Set(
    has('resource_providers') ? await columnsOf('resource_providers') : [],
  );
  const nested = providerCols.has('root_provider_id');
  const providers = (
    await rows('resource_providers', [
      'id',
      'uuid',
      'name',
      'generation',
      'root_provider_id',
      'parent_provider_id',
    ])
  ).map((r) => ({
    id: num(r['id']),
    uuid: String(r['uuid']),
    name: (r['name'] as string | null) ?? null,
    generation: numOrNull(r['generation']),
    ...(nested
      ? {
          rootProviderId: numOrNull(r['root_provider_id']),
          parentProviderId: numOrNull(r['parent_provider_id']),
        }
      : {}),
  }));

  const inventories = (
    await rows('inventories', ['resource_provider_id', 'resource_class_id', ...INVENTORY_FIELDS])
  ).map((r) => ({
    resourceProviderId: num(r['resource_provider_id']),
    resourceClassId: num(r['resource_class_id']),
    total: num(r['total']),
    reserved: num(r['reserved']),
    minUnit: num(r['min_unit']),
    maxUnit: num(r['max_unit']),
    stepSize: num(r['step_size']),
    allocationRatio: num(r['allocation_ratio']),
  }));

  const allocations = (
    await rows('allocations', ['resource_provider_id', 'consumer_id', 'resource_class_id', 'used'])
  ).map((r) => ({
    resourceProviderId: num(r['resource_provider_id']),
    consumerId: String(r['consumer_id']),
    resourceClassId: num(r['resource_class_id']),
    used: num(r['used']),
  }));

  const idMap = async (t: string, valueColumn: string) =>
    new Map(
      (await rows(t, ['id', valueColumn])).map((r) => [num(r['id']), String(r[valueColumn])]),
    );

  const consumers = new Map<string, SourceConsumer>(
    (await rows('consumers', ['uuid', 'project_id', 'user_id', 'generation'])).map((r) => [
      String(r['uuid']),
      {
        projectId: num(r['project_id']),
        userId: num(r['user_id']),
        generation:
          r['generation'] === undefined || r['generation'] === null ? 0 : num(r['generation']),
      },
    ]),
  );

  return {
    tables: tables.filter((t) =>
      [
        'resource_providers',
        'inventories',
        'allocations',
        'resource_classes',
        'placement_aggregates',
        'resource_provider_aggregates',
        'traits',
        'resource_provider_traits',
        'consumers',
        'projects',
        'users',
      ].includes(t),
    ),
    providers,
    inventories,
    allocations,
    customClasses: await idMap('resource_classes', 'name'),
    aggregates: await idMap('placement_aggregates', 'uuid'),
    providerAggregates: (
      await rows('resource_provider_aggregates', ['resource_provider_id', 'aggregate_id'])
    ).map((r) => ({
      resourceProviderId: num(r['resource_provider_id']),
      aggregateId: num(r['aggregate_id']),
    })),
    traits: await idMap('traits', 'name'),
    providerTraits: (
      await rows('resource_provider_traits', ['resource_provider_id', 'trait_id'])
    ).map((r) => ({
      resourceProviderId: num(r['resource_provider_id']),
      traitId: num(r['trait_id']),
    })),
    consumers,
    projects: await idMap('projects', 'external_id'),
    users: await idMap('users', 'external_id'),
  };
}
