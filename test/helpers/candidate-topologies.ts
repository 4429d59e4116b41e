/**
 * Provider topologies for the GET /allocation_candidates differential
 * tests, written through a Placement API (the real placement's: both
 * services then read the very same rows). A topology is data — providers
 * with parents, inventories, traits and aggregates, and consumers with
 * allocations — so the fixed zoo and the seeded random trees share one
 * writer, and a failing property seed can be rebuilt and printed.
 */
import { call } from './api-compare.js';
import { prng } from './placement-cloud.js';
import { toPythonJson, pyFloat, type PyFloat } from './python-json.js';
import { mapLimited } from '../../src/util/map-limited.js';

/** One inventory record as PUT /resource_providers/{u}/inventories takes it. */
export interface InventorySpec {
  total: number;
  reserved?: number;
  min_unit?: number;
  max_unit?: number;
  step_size?: number;
  /** Sent as a float (16.0), as nova sends it. */
  allocation_ratio?: number;
}

export interface ProviderSpec {
  key: string;
  parent?: string;
  inventories?: Record<string, InventorySpec>;
  traits?: string[];
  /** Aggregate keys (uuids are made when the topology is written). */
  aggregates?: string[];
}

export interface ConsumerSpec {
  key: string;
  /** provider key → resource class → amount. */
  allocations: Record<string, Record<string, number>>;
}

export interface Topology {
  customTraits: string[];
  customClasses: string[];
  /** Parents before children. */
  providers: ProviderSpec[];
  consumers: ConsumerSpec[];
}

/** What a written topology is called in the database. */
export interface BuiltTopology {
  topology: Topology;
  /** provider key → uuid. */
  providers: Record<string, string>;
  /** provider uuid → its root's uuid (summaries below 1.29 do not say). */
  rootOf: Record<string, string>;
  /** aggregate key → uuid. */
  aggregates: Record<string, string>;
  consumers: Record<string, string>;
}

/** The version the writer speaks: parents (1.14), aggregates with generations (1.19), consumer generations (1.28). */
const WRITE_VERSION = '1.28';

/** Thrown when placement refuses a write: the topology itself is wrong. */
export class TopologyWriteError extends Error {}

async function write(base: string, method: string, path: string, body: unknown): Promise<unknown> {
  const ex = await call(base, {
    method,
    path,
    version: WRITE_VERSION,
    ...(body === undefined ? {} : { body: toPythonJson(body) }),
  });
  if (ex.status >= 300) {
    throw new TopologyWriteError(`${method} ${path} → ${ex.status}: ${ex.body.slice(0, 500)}`);
  }
  return ex.body ? (JSON.parse(ex.body) as unknown) : null;
}

function inventoryBody(inv: InventorySpec): Record<string, number | PyFloat> {
  const out: Record<string, number | PyFloat> = { total: inv.total };
  for (const k of ['reserved', 'min_unit', 'max_unit', 'step_size'] as const) {
    if (inv[k] !== undefined) out[k] = inv[k];
  }
  if (inv.allocation_ratio !== undefined) out['allocation_ratio'] = pyFloat(inv.allocation_ratio);
  return out;
}

/** Creates the custom traits and classes a topology names (idempotent PUTs). */
export async function writeVocabulary(
  base: string,
  names: { customTraits: string[]; customClasses: string[] },
): Promise<void> {
  for (const t of names.customTraits) await write(base, 'PUT', `/traits/${t}`, undefined);
  for (const c of names.customClasses)
    await write(base, 'PUT', `/resource_classes/${c}`, undefined);
}

/** Maps `items` through `work`, `width` at a time, keeping their order. */
export const inParallel = mapLimited;

/** Draws every uuid first, in a fixed order, so parallel writing keeps a seed's uuids. */
function drawUuids(topology: Topology, seed: number) {
  const rnd = prng(seed * 7919 + 1);
  const providers: Record<string, string> = {};
  const aggregates: Record<string, string> = {};
  const consumers: Record<string, string> = {};
  for (const p of topology.providers) {
    providers[p.key] = rnd.uuid();
    for (const a of p.aggregates ?? []) aggregates[a] ??= rnd.uuid();
  }
  for (const c of topology.consumers) consumers[c.key] = rnd.uuid();
  return { providers, aggregates, consumers };
}

/** The providers of each tree, parents before children (trees can be written side by side). */
function trees(topology: Topology): ProviderSpec[][] {
  const rootKey: Record<string, string> = {};
  const byRoot = new Map<string, ProviderSpec[]>();
  for (const p of topology.providers) {
    if (p.parent !== undefined && rootKey[p.parent] === undefined) {
      throw new TopologyWriteError(`${p.key}: parent ${p.parent} is not written before it`);
    }
    const root = p.parent === undefined ? p.key : rootKey[p.parent]!;
    rootKey[p.key] = root;
    if (!byRoot.has(root)) byRoot.set(root, []);
    byRoot.get(root)!.push(p);
  }
  return [...byRoot.values()];
}

/** Creates a provider (its row id follows the order of these calls). */
async function createProvider(
  base: string,
  p: ProviderSpec,
  name: string,
  ids: ReturnType<typeof drawUuids>,
): Promise<void> {
  const parent = p.parent === undefined ? undefined : ids.providers[p.parent];
  await write(base, 'POST', '/resource_providers', {
    name,
    uuid: ids.providers[p.key]!,
    ...(parent ? { parent_provider_uuid: parent } : {}),
  });
}

/** Sets a new provider's inventories and traits; returns its generation. */
async function fillProvider(
  base: string,
  p: ProviderSpec,
  ids: ReturnType<typeof drawUuids>,
): Promise<number> {
  const uuid = ids.providers[p.key]!;
  let generation = 0;
  const bump = (r: unknown) => {
    generation = (r as { resource_provider_generation: number }).resource_provider_generation;
  };
  if (p.inventories && Object.keys(p.inventories).length > 0) {
    const inventories = Object.fromEntries(
      Object.entries(p.inventories).map(([rc, inv]) => [rc, inventoryBody(inv)]),
    );
    bump(
      await write(base, 'PUT', `/resource_providers/${uuid}/inventories`, {
        resource_provider_generation: generation,
        inventories,
      }),
    );
  }
  if (p.traits && p.traits.length > 0) {
    bump(
      await write(base, 'PUT', `/resource_providers/${uuid}/traits`, {
        resource_provider_generation: generation,
        traits: p.traits,
      }),
    );
  }
  return generation;
}

/**
 * Writes a topology through `base`'s API: rows whose ids matter in order,
 * inventories, traits and allocations `writers` at a time (placement serves
 * several threads; SQLite takes one writer at a time, so 1 there). Uuids
 * come from `seed`, so the same topology and seed give the same uuids.
 */
export async function writeTopology(
  base: string,
  topology: Topology,
  seed: number,
  writers = 1,
): Promise<BuiltTopology> {
  const ids = drawUuids(topology, seed);
  const rootOf: Record<string, string> = {};
  for (const p of topology.providers) {
    const uuid = ids.providers[p.key]!;
    rootOf[uuid] = p.parent === undefined ? uuid : rootOf[ids.providers[p.parent]!]!;
  }
  await writeVocabulary(base, topology);
  // Providers and aggregates one at a time, in topology order: placement's answers depend on
  // their row ids (which anchor a sharing provider keeps), so a seed must give the same ids.
  for (const p of topology.providers) await createProvider(base, p, `ac-${seed}-${p.key}`, ids);
  const generations: Record<string, number> = {};
  await inParallel(topology.providers, writers, async (p) => {
    generations[p.key] = await fillProvider(base, p, ids);
  });
  // (Concurrent first uses of an aggregate uuid also deadlock in placement on MySQL.)
  for (const p of topology.providers) {
    if (!p.aggregates || p.aggregates.length === 0) continue;
    await write(base, 'PUT', `/resource_providers/${ids.providers[p.key]}/aggregates`, {
      resource_provider_generation: generations[p.key],
      aggregates: p.aggregates.map((a) => ids.aggregates[a]!),
    });
  }
  const allocate = (c: ConsumerSpec) =>
    write(base, 'PUT', `/allocations/${ids.consumers[c.key]}`, {
      allocations: Object.fromEntries(
        Object.entries(c.allocations).map(([key, resources]) => [
          ids.providers[key]!,
          { resources },
        ]),
      ),
      project_id: '8d2e5c7f-0000-4000-a000-00000000ac01',
      user_id: '8d2e5c7f-0000-4000-a000-00000000ac02',
      consumer_generation: null,
    });
  // The first makes the project and user rows, which concurrent first writes would race to create.
  const [first, ...rest] = topology.consumers;
  if (first) await allocate(first);
  await inParallel(rest, writers, allocate);
  return { topology, ...ids, rootOf };
}

/** Removes what writeTopology wrote (allocations, then each tree's children before parents). */
export async function deleteTopology(
  base: string,
  built: BuiltTopology,
  writers = 1,
): Promise<void> {
  await inParallel(Object.values(built.consumers), writers, (u) =>
    write(base, 'DELETE', `/allocations/${u}`, undefined),
  );
  await inParallel(trees(built.topology), writers, async (tree) => {
    for (const p of [...tree].reverse()) {
      await write(base, 'DELETE', `/resource_providers/${built.providers[p.key]}`, undefined);
    }
  });
}

/** The custom names the fixed zoo and the random trees use. */
export const CUSTOM_TRAITS = [
  'CUSTOM_FOO',
  'CUSTOM_BAR',
  'CUSTOM_GOLD',
  'CUSTOM_PHYSNET_A',
  'CUSTOM_PHYSNET_B',
];
export const CUSTOM_CLASSES = ['CUSTOM_MAGIC'];

/**
 * The fixed zoo: flat compute nodes (one full, one with min/step rules,
 * ratios 16.0 and 1.5, reserved), two sharing storage providers and a
 * sharing IP pool in aggregates with compute nodes, nested trees (compute →
 * two NUMA nodes with VCPU/MEMORY_MB → FPGA, PGPU → VGPU, SR-IOV PFs, up to
 * four levels), a mixed tree with VCPU on its root, and baremetal nodes;
 * traits and aggregates on roots and children; allocations that fill some.
 * `sharing: false` leaves the sharing providers (and their usage) out.
 */
export function candidateZoo(options: { sharing?: boolean } = {}): Topology {
  const providers: ProviderSpec[] = [
    {
      key: 'cn1',
      inventories: {
        VCPU: { total: 8, allocation_ratio: 16.0 },
        MEMORY_MB: { total: 16384, reserved: 512, allocation_ratio: 1.5, min_unit: 128 },
        DISK_GB: { total: 200, max_unit: 100 },
      },
      traits: ['HW_CPU_X86_AVX2', 'COMPUTE_NODE', 'CUSTOM_FOO'],
      aggregates: ['aggA', 'aggShare1'],
    },
    {
      key: 'cn2',
      inventories: {
        VCPU: { total: 4, allocation_ratio: 1.0 },
        MEMORY_MB: { total: 8192 },
        DISK_GB: { total: 100, min_unit: 10, step_size: 10 },
      },
      traits: ['HW_CPU_X86_SSE2', 'COMPUTE_NODE'],
      aggregates: ['aggB'],
    },
    {
      key: 'cn3',
      inventories: {
        VCPU: { total: 2, allocation_ratio: 1.0 },
        MEMORY_MB: { total: 4096, max_unit: 1024 },
      },
      traits: ['COMPUTE_STATUS_DISABLED', 'COMPUTE_NODE'],
      aggregates: ['aggA', 'aggShare1'],
    },
    {
      key: 'cn4',
      inventories: {
        VCPU: { total: 16, allocation_ratio: 4.0, reserved: 2 },
        MEMORY_MB: { total: 32768, allocation_ratio: 1.0 },
      },
      traits: ['CUSTOM_BAR', 'HW_CPU_X86_AVX2', 'COMPUTE_NODE'],
      aggregates: ['aggShare1', 'aggShare2'],
    },
    {
      key: 'ss1',
      inventories: { DISK_GB: { total: 1000, reserved: 100 } },
      traits: ['MISC_SHARES_VIA_AGGREGATE', 'STORAGE_DISK_SSD'],
      aggregates: ['aggShare1'],
    },
    {
      key: 'ss2',
      inventories: { DISK_GB: { total: 500, step_size: 50, min_unit: 50 } },
      traits: ['MISC_SHARES_VIA_AGGREGATE'],
      aggregates: ['aggShare2'],
    },
    {
      key: 'ip1',
      inventories: { IPV4_ADDRESS: { total: 16 } },
      traits: ['MISC_SHARES_VIA_AGGREGATE'],
      aggregates: ['aggShare2', 'aggShare1'],
    },
    // A nested compute node: disk on the root, CPU and memory on NUMA nodes, devices below.
    {
      key: 'nc1',
      inventories: { DISK_GB: { total: 500 } },
      traits: ['COMPUTE_VOLUME_MULTI_ATTACH', 'COMPUTE_NODE'],
      aggregates: ['aggB', 'aggShare2'],
    },
    {
      key: 'nc1_numa0',
      parent: 'nc1',
      inventories: { VCPU: { total: 8 }, MEMORY_MB: { total: 8192 } },
      traits: ['HW_NUMA_ROOT', 'CUSTOM_FOO'],
    },
    {
      key: 'nc1_numa0_fpga',
      parent: 'nc1_numa0',
      inventories: { FPGA: { total: 2 } },
      traits: ['CUSTOM_GOLD'],
    },
    {
      key: 'nc1_numa0_pf1',
      parent: 'nc1_numa0',
      inventories: { SRIOV_NET_VF: { total: 8 }, NET_BW_EGR_KILOBIT_PER_SEC: { total: 10000 } },
      traits: ['CUSTOM_PHYSNET_A'],
      aggregates: ['aggChild'],
    },
    {
      key: 'nc1_numa1',
      parent: 'nc1',
      inventories: {
        VCPU: { total: 8, allocation_ratio: 2.0 },
        MEMORY_MB: { total: 8192, allocation_ratio: 1.5 },
      },
      traits: ['HW_NUMA_ROOT'],
    },
    { key: 'nc1_numa1_gpu', parent: 'nc1_numa1', traits: ['CUSTOM_BAR'] },
    {
      key: 'nc1_numa1_gpu_vgpu',
      parent: 'nc1_numa1_gpu',
      inventories: { VGPU: { total: 4 }, PGPU: { total: 1 } },
    },
    {
      key: 'nc1_numa1_pf2',
      parent: 'nc1_numa1',
      inventories: { SRIOV_NET_VF: { total: 8 }, NET_BW_EGR_KILOBIT_PER_SEC: { total: 10000 } },
      traits: ['CUSTOM_PHYSNET_B'],
    },
    // A second nested node, partly used.
    {
      key: 'nc2',
      inventories: { DISK_GB: { total: 100 } },
      traits: ['CUSTOM_FOO', 'COMPUTE_NODE'],
      aggregates: ['aggA'],
    },
    {
      key: 'nc2_numa0',
      parent: 'nc2',
      inventories: { VCPU: { total: 4 }, MEMORY_MB: { total: 4096 } },
      traits: ['HW_NUMA_ROOT'],
    },
    {
      key: 'nc2_numa0_pf',
      parent: 'nc2_numa0',
      inventories: { SRIOV_NET_VF: { total: 4 } },
      traits: ['CUSTOM_PHYSNET_A'],
      aggregates: ['aggChild'],
    },
    {
      key: 'nc2_numa1',
      parent: 'nc2',
      inventories: { VCPU: { total: 4 }, MEMORY_MB: { total: 4096, reserved: 1024 } },
      traits: ['HW_NUMA_ROOT', 'CUSTOM_GOLD'],
    },
    {
      key: 'nc2_numa1_fpga',
      parent: 'nc2_numa1',
      inventories: { FPGA: { total: 2 } },
      traits: ['CUSTOM_GOLD'],
    },
    // CPU on the root and a NIC below it; disk from shared storage.
    {
      key: 'mx1',
      inventories: { VCPU: { total: 4, allocation_ratio: 1.5 }, MEMORY_MB: { total: 2048 } },
      traits: ['HW_CPU_X86_SSE2'],
      aggregates: ['aggShare1'],
    },
    {
      key: 'mx1_pf',
      parent: 'mx1',
      inventories: {
        SRIOV_NET_VF: { total: 2 },
        NET_BW_EGR_KILOBIT_PER_SEC: { total: 10000, min_unit: 100, step_size: 100 },
      },
      traits: ['CUSTOM_PHYSNET_A', 'CUSTOM_PHYSNET_B'],
    },
    {
      key: 'bm1',
      inventories: { CUSTOM_MAGIC: { total: 1, max_unit: 1 } },
      traits: ['CUSTOM_GOLD'],
    },
    { key: 'bm2', inventories: { CUSTOM_MAGIC: { total: 1 } }, aggregates: ['aggB'] },
  ];
  const consumers: ConsumerSpec[] = [
    { key: 'fill-cn3', allocations: { cn3: { VCPU: 2, MEMORY_MB: 1024 } } },
    { key: 'half-cn1', allocations: { cn1: { VCPU: 100, MEMORY_MB: 8192, DISK_GB: 100 } } },
    { key: 'cn1-disk', allocations: { cn1: { DISK_GB: 60 } } },
    { key: 'ss1-disk', allocations: { ss1: { DISK_GB: 850 }, cn4: { VCPU: 10 } } },
    { key: 'fill-nc2-numa0', allocations: { nc2_numa0: { VCPU: 4, MEMORY_MB: 1024 } } },
    { key: 'nc2-fpga', allocations: { nc2_numa1_fpga: { FPGA: 1 } } },
    { key: 'fill-bm2', allocations: { bm2: { CUSTOM_MAGIC: 1 } } },
    { key: 'nc1-vf', allocations: { nc1_numa0_pf1: { SRIOV_NET_VF: 6 }, nc1: { DISK_GB: 50 } } },
    { key: 'ss2-disk', allocations: { ss2: { DISK_GB: 400 } } },
  ];
  if (options.sharing === false) {
    // Without any sharing provider placement takes its tree-only paths (and their defects).
    const shared = new Set(['ss1', 'ss2', 'ip1']);
    return {
      customTraits: CUSTOM_TRAITS,
      customClasses: CUSTOM_CLASSES,
      providers: providers.filter((p) => !shared.has(p.key)),
      consumers: consumers.filter((c) => !Object.keys(c.allocations).some((k) => shared.has(k))),
    };
  }
  return { customTraits: CUSTOM_TRAITS, customClasses: CUSTOM_CLASSES, providers, consumers };
}

/** Resource classes the random trees draw from, with plausible totals. */
const RANDOM_CLASSES: [string, number][] = [
  ['VCPU', 16],
  ['MEMORY_MB', 8192],
  ['DISK_GB', 200],
  ['SRIOV_NET_VF', 8],
  ['FPGA', 2],
  ['VGPU', 4],
  ['CUSTOM_MAGIC', 2],
];

/** Standard traits the random trees draw from, beside the custom ones. */
export const RANDOM_STANDARD_TRAITS = ['HW_CPU_X86_AVX2', 'HW_NUMA_ROOT', 'STORAGE_DISK_SSD'];

/** Aggregate keys of the random trees. */
export const RANDOM_AGGREGATES = ['r1', 'r2', 'r3'];

function randomInventory(rnd: ReturnType<typeof prng>, total: number): InventorySpec {
  const inv: InventorySpec = { total: rnd.int(1, total) };
  if (rnd.chance(0.25)) inv.reserved = rnd.int(0, Math.floor(inv.total / 2));
  if (rnd.chance(0.3)) inv.allocation_ratio = rnd.pick([1.0, 1.5, 2.0, 16.0, 0.5]);
  if (inv.total >= 4 && rnd.chance(0.2)) inv.step_size = rnd.pick([2, 4]);
  if (inv.total >= 4 && rnd.chance(0.2)) inv.min_unit = rnd.int(1, 3);
  if (rnd.chance(0.2)) inv.max_unit = rnd.int(inv.min_unit ?? 1, inv.total);
  return inv;
}

function randomTraits(rnd: ReturnType<typeof prng>): string[] {
  const all = [...CUSTOM_TRAITS, ...RANDOM_STANDARD_TRAITS];
  return all.filter(() => rnd.chance(0.2));
}

/**
 * A random topology for a seed: 2–5 trees of depth ≤ 3 and at most a few
 * children each (wide trees explode combinatorially in 8.0.0), sometimes a
 * sharing provider, random inventories with ratios and unit rules, traits
 * and aggregates on any provider, and consumers using part of some.
 */
export function randomTopology(seed: number): Topology {
  const rnd = prng(seed);
  const providers: ProviderSpec[] = [];
  const newProvider = (key: string, parent?: string): ProviderSpec => {
    const inventories: Record<string, InventorySpec> = {};
    const classes = RANDOM_CLASSES.filter(() => rnd.chance(parent ? 0.35 : 0.5));
    for (const [rc, total] of classes) inventories[rc] = randomInventory(rnd, total);
    const aggregates = RANDOM_AGGREGATES.filter(() => rnd.chance(parent ? 0.15 : 0.45));
    const p: ProviderSpec = { key, inventories, traits: randomTraits(rnd), aggregates };
    if (parent) p.parent = parent;
    providers.push(p);
    return p;
  };
  const trees = rnd.int(2, 5);
  for (let t = 0; t < trees; t++) {
    const root = newProvider(`t${t}`);
    const grow = (parent: ProviderSpec, depth: number) => {
      if (depth >= 3) return;
      const children = rnd.int(0, depth === 0 ? 3 : 2);
      for (let c = 0; c < children; c++)
        grow(newProvider(`${parent.key}.${c}`, parent.key), depth + 1);
    };
    grow(root, 0);
  }
  // Sharing providers, each in one or two aggregates (so several roots may anchor them).
  const sharing = rnd.pick([0, 1, 1, 2]);
  for (let i = 0; i < sharing; i++) {
    const agg = RANDOM_AGGREGATES.filter(() => rnd.chance(0.5));
    providers.push({
      key: `share${i}`,
      inventories: {
        DISK_GB: randomInventory(rnd, 1000),
        ...(rnd.chance(0.3) ? { SRIOV_NET_VF: randomInventory(rnd, 8) } : {}),
      },
      traits: ['MISC_SHARES_VIA_AGGREGATE', ...randomTraits(rnd)],
      aggregates: agg.length > 0 ? agg : [rnd.pick(RANDOM_AGGREGATES)],
    });
  }
  const consumers: ConsumerSpec[] = [];
  for (const p of providers) {
    const used: Record<string, number> = {};
    for (const [rc, inv] of Object.entries(p.inventories ?? {})) {
      if (!rnd.chance(0.35)) continue;
      const amount = validAmount(inv, rnd);
      if (amount !== null) used[rc] = amount;
    }
    if (Object.keys(used).length > 0)
      consumers.push({ key: `use-${p.key}`, allocations: { [p.key]: used } });
  }
  return { customTraits: CUSTOM_TRAITS, customClasses: CUSTOM_CLASSES, providers, consumers };
}

/** An amount placement accepts for an allocation against `inv` alone, or null when none fits. */
function validAmount(inv: InventorySpec, rnd: ReturnType<typeof prng>): number | null {
  const capacity = Math.floor((inv.total - (inv.reserved ?? 0)) * (inv.allocation_ratio ?? 1.0));
  const min = inv.min_unit ?? 1;
  const max = Math.min(inv.max_unit ?? inv.total, capacity);
  const step = inv.step_size ?? 1;
  const fits: number[] = [];
  for (let a = min; a <= max; a++) if (a % step === 0) fits.push(a);
  return fits.length === 0 ? null : rnd.pick(fits);
}
