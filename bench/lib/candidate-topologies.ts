/**
 * The provider topologies of placement's own performance jobs
 * (openstack/placement gate/perfload-*.sh), written straight into a
 * placement database as bulk inserts through the project's db layer — the
 * rows placement itself would have written through its API (root and parent
 * ids, generations, every inventory column, trait and aggregate links), but
 * in seconds rather than the minutes 10,000 providers take over HTTP.
 *
 *  - flat: compute nodes with VCPU, MEMORY_MB and DISK_GB, all in one
 *    aggregate, every other one with HW_CPU_X86_AVX2 (perfload-server.sh's
 *    placeload run);
 *  - nested: gate/gabbits/nested-perfload.yaml's tree — a compute node with
 *    DISK_GB and COMPUTE_VOLUME_MULTI_ATTACH, two NUMA children with VCPU and
 *    MEMORY_MB (one with CUSTOM_FOO), an FPGA and a VGPU device under NUMA 0,
 *    two FPGAs under NUMA 1 — repeated.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/db/connect.js';
import { standardResourceClasses } from '../../src/standard/standard-names.js';

type Row = Record<string, unknown>;

const NOW = new Date().toISOString().replace('T', ' ').slice(0, 19);

/** A standard resource class's id: its position in os-resource-classes. */
function rc(name: string): number {
  const id = standardResourceClasses().indexOf(name);
  if (id < 0) throw new Error(`${name} is not a standard resource class`);
  return id;
}

interface InventorySpec {
  total: number;
  reserved?: number;
  min_unit?: number;
  max_unit?: number;
  step_size?: number;
  allocation_ratio?: number;
}

/** Rows for one bulk load; provider ids are explicit so children can name their parents. */
class Rows {
  providers: Row[] = [];
  inventories: Row[] = [];
  providerTraits: { provider: number; trait: string }[] = [];
  providerAggregates: Row[] = [];
  aggregates: Row[] = [];
  private nextId = 1;

  provider(
    name: (uuid: string) => string,
    options: {
      parent?: { id: number; root: number };
      inventories?: Record<string, InventorySpec>;
      traits?: string[];
      aggregates?: number[];
    },
  ): { id: number; root: number } {
    const id = this.nextId++;
    const uuid = randomUUID();
    const root = options.parent?.root ?? id;
    const inventories = Object.entries(options.inventories ?? {});
    const traits = options.traits ?? [];
    const aggregates = options.aggregates ?? [];
    // One generation bump per API call that would have set each part.
    const generation =
      (inventories.length ? 1 : 0) + (traits.length ? 1 : 0) + (aggregates.length ? 1 : 0);
    this.providers.push({
      id,
      uuid,
      name: name(uuid),
      generation,
      root_provider_id: root,
      parent_provider_id: options.parent?.id ?? null,
      created_at: NOW,
      updated_at: generation ? NOW : null,
    });
    for (const [cls, inv] of inventories) {
      this.inventories.push({
        resource_provider_id: id,
        resource_class_id: rc(cls),
        total: inv.total,
        reserved: inv.reserved ?? 0,
        min_unit: inv.min_unit ?? 1,
        max_unit: inv.max_unit ?? inv.total,
        step_size: inv.step_size ?? 1,
        allocation_ratio: inv.allocation_ratio ?? 1.0,
        created_at: NOW,
        updated_at: null,
      });
    }
    for (const trait of traits) this.providerTraits.push({ provider: id, trait });
    for (const aggregate of aggregates) {
      this.providerAggregates.push({
        resource_provider_id: id,
        aggregate_id: aggregate,
        created_at: NOW,
        updated_at: null,
      });
    }
    return { id, root };
  }

  aggregate(uuid: string): number {
    const id = this.aggregates.length + 1;
    this.aggregates.push({ id, uuid, created_at: NOW, updated_at: null });
    return id;
  }
}

/** Writes the rows; traits are added by name (placement's start-up sync skips those already there). */
async function load(database: Database, rows: Rows): Promise<void> {
  const knex = database.knex;
  const names = [...new Set(rows.providerTraits.map((t) => t.trait))];
  const existing = new Set(
    (await knex('traits').whereIn('name', names).select('name')).map(
      (r: { name: string }) => r.name,
    ),
  );
  const missing = names.filter((n) => !existing.has(n));
  if (missing.length) {
    await knex.batchInsert(
      'traits',
      missing.map((name) => ({ name, created_at: NOW, updated_at: null })),
      500,
    );
  }
  const traitIds = new Map<string, number>(
    (await knex('traits').whereIn('name', names).select('id', 'name')).map(
      (r: { id: number; name: string }) => [r.name, Number(r.id)],
    ),
  );
  await knex.batchInsert('resource_providers', rows.providers, 1000);
  await knex.batchInsert('inventories', rows.inventories, 1000);
  await knex.batchInsert(
    'resource_provider_traits',
    rows.providerTraits.map((t) => ({
      trait_id: traitIds.get(t.trait)!,
      resource_provider_id: t.provider,
      created_at: NOW,
      updated_at: null,
    })),
    1000,
  );
  await knex.batchInsert('placement_aggregates', rows.aggregates, 1000);
  await knex.batchInsert('resource_provider_aggregates', rows.providerAggregates, 1000);
  // Explicit ids leave PostgreSQL's sequences behind; move them past the rows, as inserts would.
  for (const table of ['resource_providers', 'placement_aggregates']) {
    await database.dialect.advanceSequence(knex, table, 'id');
  }
}

export interface FlatTopology {
  aggregate: string;
  providers: number;
}

/** `nodes` compute nodes in one aggregate, every other one with HW_CPU_X86_AVX2. */
export async function buildFlat(database: Database, nodes: number): Promise<FlatTopology> {
  const rows = new Rows();
  const aggregate = randomUUID();
  const agg = rows.aggregate(aggregate);
  for (let i = 0; i < nodes; i++) {
    rows.provider((uuid) => `compute-${i}-${uuid.slice(0, 8)}`, {
      inventories: {
        VCPU: { total: 32, allocation_ratio: 16.0 },
        MEMORY_MB: { total: 131072, reserved: 512, allocation_ratio: 1.5 },
        DISK_GB: { total: 2048 },
      },
      traits: i % 2 === 0 ? ['HW_CPU_X86_AVX2'] : ['HW_CPU_X86_SSE'],
      aggregates: [agg],
    });
  }
  await load(database, rows);
  return { aggregate, providers: rows.providers.length };
}

/** nested-perfload.yaml's tree, `trees` times. */
export async function buildNested(
  database: Database,
  trees: number,
): Promise<{ providers: number }> {
  const rows = new Rows();
  for (let i = 0; i < trees; i++) {
    const cn = rows.provider((uuid) => uuid, {
      inventories: { DISK_GB: { total: 20480 } },
      traits: ['COMPUTE_VOLUME_MULTI_ATTACH'],
    });
    const numa0 = rows.provider((uuid) => `numa 0-${uuid}`, {
      parent: cn,
      inventories: {
        VCPU: { total: 4, reserved: 2 },
        MEMORY_MB: { total: 2048, min_unit: 512, step_size: 256 },
      },
      traits: ['HW_NUMA_ROOT'],
    });
    rows.provider((uuid) => `fpga0-0-${uuid}`, {
      parent: numa0,
      inventories: { FPGA: { total: 1 } },
    });
    rows.provider((uuid) => `pgpu0-0-${uuid}`, {
      parent: numa0,
      inventories: { VGPU: { total: 8 } },
    });
    const numa1 = rows.provider((uuid) => `numa 1-${uuid}`, {
      parent: cn,
      inventories: {
        VCPU: { total: 4 },
        MEMORY_MB: { total: 2048, min_unit: 256, max_unit: 1024 },
      },
      traits: ['HW_NUMA_ROOT', 'CUSTOM_FOO'],
    });
    for (const j of [0, 1]) {
      rows.provider((uuid) => `fpga1-${j}-${uuid}`, {
        parent: numa1,
        inventories: { FPGA: { total: 1 } },
      });
    }
  }
  await load(database, rows);
  return { providers: rows.providers.length };
}
