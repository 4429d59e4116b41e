/**
 * A realistic cloud written straight into a placement database (schema by
 * our own db sync, rows by bulk inserts): compute nodes with VCPU, MEMORY_MB
 * and DISK_GB, NUMA and SR-IOV children, shared storage in aggregates,
 * baremetal nodes with custom classes, traits, projects, users, typed and
 * untyped consumers with allocations on one to three providers — and the
 * awkward rows migrated clouds carry (an allocation without a consumer row,
 * a provider without a root, a consumer whose user row is gone).
 *
 * Standard resource classes are referenced by their fixed ids but not
 * inserted (placement's start-up sync adds them); only the standard traits
 * the cloud uses are inserted, without explicit ids. Deterministic for a seed.
 */
import type { Knex } from 'knex';
import type { Database } from '../../src/db/connect.js';
import { syncSchema } from '../../src/schema/migrator.js';

/** Ids of standard resource classes: their position in os-resource-classes. */
export const RC = {
  VCPU: 0,
  MEMORY_MB: 1,
  DISK_GB: 2,
  PCI_DEVICE: 3,
  SRIOV_NET_VF: 4,
  VGPU: 10,
  NET_BW_EGR_KILOBIT_PER_SEC: 12,
  NET_BW_IGR_KILOBIT_PER_SEC: 13,
  PCPU: 14,
} as const;

export interface CloudOptions {
  /** Compute nodes (the other shapes scale with it). */
  computeNodes: number;
  /** Consumers per compute node, on average. */
  consumersPerNode?: number;
  seed?: number;
  /** Schema revision (default zed, which placement 8.0.0 serves). */
  revision?: string;
  /** Include rows that only broken migrations leave behind. */
  anomalies?: boolean;
}

/** What was written, for building requests and expectations. */
export interface CloudFacts {
  providers: { uuid: string; name: string; id: number; rootless?: boolean }[];
  computeNodes: string[];
  nestedRoots: string[];
  aggregates: string[];
  consumers: string[];
  /** Consumers whose allocations have no consumers row. */
  orphanConsumers: string[];
  projects: string[];
  users: string[];
  customTraits: string[];
  standardTraitsUsed: string[];
  customClasses: string[];
  consumerTypes: string[];
}

/** mulberry32: small, fast, deterministic; shared by the test data and the API fuzz requests. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
    uuid: () => {
      const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16)).join('');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    },
  };
}

function stamp(base: number, offsetSeconds: number): string {
  return new Date(base + offsetSeconds * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

type Row = Record<string, unknown>;

async function insert(db: Knex, table: string, rows: Row[]): Promise<void> {
  if (rows.length > 0) await db.batchInsert(table, rows, 500);
}

/** Builds the cloud in an empty database; returns what it wrote. */
export async function buildPlacementCloud(
  database: Database,
  options: CloudOptions,
): Promise<CloudFacts> {
  const rnd = prng(options.seed ?? 42);
  const db = database.knex;
  const anomalies = options.anomalies ?? true;
  await syncSchema(database, { target: options.revision ?? 'zed' });
  // Before Xena (and in nova_api) there are no consumer types.
  const typed = (await database.dialect.listTables(db)).includes('consumer_types');
  const base = Date.UTC(2023, 2, 14, 9, 30, 0);
  const when = () => {
    const created = rnd.int(0, 200 * 86400);
    return {
      created_at: stamp(base, created),
      updated_at: rnd.chance(0.6) ? stamp(base, created + rnd.int(60, 90 * 86400)) : null,
    };
  };

  // Traits: a few standard ones (auto ids, as nova synced them lazily) and custom ones.
  const standardTraitsUsed = [
    'COMPUTE_NODE',
    'HW_CPU_X86_AVX2',
    'HW_CPU_X86_SSE2',
    'HW_NUMA_ROOT',
    'MISC_SHARES_VIA_AGGREGATE',
    'STORAGE_DISK_SSD',
    'COMPUTE_STATUS_DISABLED',
  ];
  const customTraits = [
    'CUSTOM_PHYSNET_PUBLIC',
    'CUSTOM_PHYSNET_TENANT',
    'CUSTOM_GOLD',
    'CUSTOM_RACK_A1',
  ];
  await insert(
    db,
    'traits',
    [...standardTraitsUsed, ...customTraits].map((name) => ({ name, ...when() })),
  );
  const traitIds = new Map<string, number>(
    (await db('traits').select('id', 'name')).map((r: { id: number; name: string }) => [
      r.name,
      Number(r.id),
    ]),
  );

  // Custom resource classes, ids from 10000 as placement assigns them.
  const customClasses = ['CUSTOM_BAREMETAL_GOLD', 'CUSTOM_BAREMETAL_SILVER', 'CUSTOM_FPGA_XILINX'];
  await insert(
    db,
    'resource_classes',
    customClasses.map((name, i) => ({ id: 10000 + i, name, ...when() })),
  );
  const rcOf = (name: string) => 10000 + customClasses.indexOf(name);

  const consumerTypes = typed ? ['INSTANCE', 'MIGRATION'] : [];
  await insert(
    db,
    'consumer_types',
    consumerTypes.map((name, i) => ({ id: i + 1, name, ...when() })),
  );

  const providers: Row[] = [];
  const inventories: Row[] = [];
  const providerTraits: Row[] = [];
  const providerAggs: Row[] = [];
  const facts: CloudFacts = {
    providers: [],
    computeNodes: [],
    nestedRoots: [],
    aggregates: [],
    consumers: [],
    orphanConsumers: [],
    projects: [],
    users: [],
    customTraits,
    standardTraitsUsed,
    customClasses,
    consumerTypes,
  };
  let nextId = 1;
  const addProvider = (name: string, parent?: { id: number; root: number }, rootless = false) => {
    const id = nextId++;
    const uuid = rnd.uuid();
    providers.push({
      id,
      uuid,
      name,
      generation: rnd.int(1, 40),
      root_provider_id: rootless ? null : (parent?.root ?? id),
      parent_provider_id: parent?.id ?? null,
      ...when(),
    });
    facts.providers.push({ uuid, name, id, ...(rootless ? { rootless: true } : {}) });
    return { id, uuid, root: parent?.root ?? id };
  };
  const addInventory = (rp: number, rc: number, total: number, extra: Row = {}) =>
    inventories.push({
      resource_provider_id: rp,
      resource_class_id: rc,
      total,
      reserved: 0,
      min_unit: 1,
      max_unit: total,
      step_size: 1,
      allocation_ratio: 1.0,
      ...when(),
      ...extra,
    });
  const addTrait = (rp: number, name: string) =>
    providerTraits.push({ resource_provider_id: rp, trait_id: traitIds.get(name), ...when() });

  // Aggregates.
  const aggregateCount = Math.max(3, Math.ceil(options.computeNodes / 10));
  const aggregates: Row[] = [];
  for (let i = 0; i < aggregateCount; i++) {
    const uuid = rnd.uuid();
    aggregates.push({ id: i + 1, uuid, ...when() });
    facts.aggregates.push(uuid);
  }
  // An aggregate nobody is in.
  const lonely = rnd.uuid();
  aggregates.push({ id: aggregateCount + 1, uuid: lonely, ...when() });
  facts.aggregates.push(lonely);

  // Shared storage, each in one aggregate.
  const sharedStorage: { id: number; agg: number }[] = [];
  for (let i = 0; i < Math.max(1, Math.ceil(aggregateCount / 3)); i++) {
    const rp = addProvider(`shared-storage-${i}`);
    addInventory(rp.id, RC.DISK_GB, 100000, {
      reserved: 1000,
      max_unit: 5000,
      allocation_ratio: 1.0,
    });
    addTrait(rp.id, 'MISC_SHARES_VIA_AGGREGATE');
    addTrait(rp.id, 'STORAGE_DISK_SSD');
    const agg = (i % aggregateCount) + 1;
    providerAggs.push({ resource_provider_id: rp.id, aggregate_id: agg, ...when() });
    sharedStorage.push({ id: rp.id, agg });
  }

  // Compute nodes: where an instance's VCPU/MEMORY_MB (and DISK_GB) land.
  const placementTargets: { cpu: number; mem: number; disk: number | null }[] = [];
  for (let n = 0; n < options.computeNodes; n++) {
    const name =
      n === 3
        ? `compute-${n}.région-est.example.org`
        : `compute-${String(n).padStart(4, '0')}.example.org`;
    const cn = addProvider(name);
    facts.computeNodes.push(providers[providers.length - 1]!['uuid'] as string);
    addTrait(cn.id, 'COMPUTE_NODE');
    addTrait(cn.id, rnd.pick(['HW_CPU_X86_AVX2', 'HW_CPU_X86_SSE2']));
    if (rnd.chance(0.3)) addTrait(cn.id, 'CUSTOM_RACK_A1');
    if (rnd.chance(0.05)) addTrait(cn.id, 'COMPUTE_STATUS_DISABLED');
    const aggs = new Set<number>();
    const inAggs = rnd.int(0, 3);
    for (let i = 0; i < inAggs; i++) aggs.add(rnd.int(1, aggregateCount));
    for (const a of aggs)
      providerAggs.push({ resource_provider_id: cn.id, aggregate_id: a, ...when() });
    const shared = sharedStorage.find((s) => aggs.has(s.agg));
    const vcpus = rnd.pick([16, 32, 48, 64]);
    const memory = rnd.pick([65536, 131072, 262144]);
    const numa = rnd.chance(0.25);
    if (numa) {
      facts.nestedRoots.push(providers[providers.length - 1]!['uuid'] as string);
      if (!shared) addInventory(cn.id, RC.DISK_GB, rnd.pick([500, 1000, 2000]), { reserved: 10 });
      for (let s = 0; s < 2; s++) {
        const node = addProvider(`${name}_NUMA${s}`, cn);
        addTrait(node.id, 'HW_NUMA_ROOT');
        addInventory(node.id, RC.PCPU, vcpus / 2, { max_unit: vcpus / 2 });
        addInventory(node.id, RC.MEMORY_MB, memory / 2, { reserved: 512, max_unit: memory / 2 });
        placementTargets.push({ cpu: node.id, mem: node.id, disk: shared?.id ?? cn.id });
      }
    } else {
      addInventory(cn.id, RC.VCPU, vcpus, {
        allocation_ratio: 16.0,
        reserved: rnd.int(0, 2),
        max_unit: vcpus,
      });
      addInventory(cn.id, RC.MEMORY_MB, memory, {
        allocation_ratio: 1.5,
        reserved: 512,
        max_unit: memory,
      });
      if (!shared) {
        addInventory(cn.id, RC.DISK_GB, rnd.pick([500, 1000, 2000]), {
          allocation_ratio: 1.0,
          reserved: 10,
          step_size: rnd.pick([1, 1, 10]),
        });
      }
      placementTargets.push({ cpu: cn.id, mem: cn.id, disk: shared?.id ?? cn.id });
    }
    if (rnd.chance(0.2)) {
      const pf = addProvider(`${name}:eth${rnd.int(0, 3)}`, cn);
      addInventory(pf.id, RC.SRIOV_NET_VF, 64, { max_unit: 8 });
      addInventory(pf.id, RC.NET_BW_EGR_KILOBIT_PER_SEC, 10000000, { max_unit: 10000000 });
      addTrait(pf.id, rnd.pick(['CUSTOM_PHYSNET_PUBLIC', 'CUSTOM_PHYSNET_TENANT']));
    }
  }
  // Baremetal nodes: one unit of a custom class each.
  const baremetal: number[] = [];
  const baremetalClass = new Map<number, number>();
  for (let i = 0; i < Math.max(2, Math.ceil(options.computeNodes / 8)); i++) {
    const rp = addProvider(`ironic-node-${i}`);
    const rc = rcOf(i % 2 === 0 ? 'CUSTOM_BAREMETAL_GOLD' : 'CUSTOM_BAREMETAL_SILVER');
    addInventory(rp.id, rc, 1, { max_unit: 1 });
    if (i % 2 === 0) addTrait(rp.id, 'CUSTOM_GOLD');
    baremetal.push(rp.id);
    baremetalClass.set(rp.id, rc);
  }
  // An empty provider, and (anomaly) one without a root, as pre-Queens rows were.
  addProvider('empty-provider');
  if (anomalies) {
    const rp = addProvider('legacy-rootless', undefined, true);
    addInventory(rp.id, RC.VCPU, 8);
  }

  // What is left of each inventory, so that the cloud stays within capacity.
  const remaining = new Map<string, number>();
  for (const i of inventories) {
    const capacity = (Number(i['total']) - Number(i['reserved'])) * Number(i['allocation_ratio']);
    remaining.set(`${i['resource_provider_id']}:${i['resource_class_id']}`, capacity);
  }
  const take = (wants: [number, number, number][]): boolean => {
    const need = new Map<string, number>();
    for (const [rp, rc, n] of wants) need.set(`${rp}:${rc}`, (need.get(`${rp}:${rc}`) ?? 0) + n);
    for (const [key, n] of need) if ((remaining.get(key) ?? -1) < n) return false;
    for (const [key, n] of need) remaining.set(key, remaining.get(key)! - n);
    return true;
  };

  // Projects, users, consumers, allocations.
  const projects: Row[] = [];
  const users: Row[] = [];
  for (let i = 0; i < Math.max(3, Math.ceil(options.computeNodes / 4)); i++) {
    const external = rnd.uuid().replace(/-/g, '');
    projects.push({ id: i + 1, external_id: external, ...when() });
    facts.projects.push(external);
  }
  for (let i = 0; i < Math.max(5, Math.ceil(options.computeNodes / 2)); i++) {
    const external = rnd.uuid().replace(/-/g, '');
    users.push({ id: i + 1, external_id: external, ...when() });
    facts.users.push(external);
  }
  const consumers: Row[] = [];
  const allocations: Row[] = [];
  const consumerCount = Math.round(options.computeNodes * (options.consumersPerNode ?? 6));
  for (let c = 0; c < consumerCount; c++) {
    const uuid = rnd.uuid();
    const project = rnd.int(1, projects.length);
    const user = rnd.int(1, users.length);
    const typeRoll = rnd.next();
    const consumerType = typeRoll < 0.7 ? 1 : typeRoll < 0.8 ? 2 : null;
    const orphan = anomalies && c % 97 === 5;
    if (!orphan) {
      consumers.push({
        id: c + 1,
        uuid,
        project_id: project,
        user_id: anomalies && c % 131 === 7 ? 99999 : user,
        generation: rnd.int(0, 5),
        ...(typed ? { consumer_type_id: consumerType } : {}),
        ...when(),
      });
      facts.consumers.push(uuid);
    } else {
      facts.orphanConsumers.push(uuid);
    }
    const t = when();
    const alloc = (rp: number, rc: number, used: number) =>
      allocations.push({
        resource_provider_id: rp,
        consumer_id: uuid,
        resource_class_id: rc,
        used,
        ...t,
      });
    if (baremetal.length > 0 && rnd.chance(0.05)) {
      const rp = rnd.pick(baremetal);
      const rc = baremetalClass.get(rp)!;
      if (take([[rp, rc, 1]])) alloc(rp, rc, 1);
      continue;
    }
    // An instance: CPU and memory on a host (or NUMA node), disk there or on shared storage.
    for (let attempt = 0; attempt < 5; attempt++) {
      const target = rnd.pick(placementTargets);
      const cpuClass = remaining.has(`${target.cpu}:${RC.PCPU}`) ? RC.PCPU : RC.VCPU;
      const wants: [number, number, number][] = [
        [target.cpu, cpuClass, rnd.pick([1, 2, 4])],
        [target.mem, RC.MEMORY_MB, rnd.pick([512, 2048, 4096])],
      ];
      if (target.disk !== null && rnd.chance(0.9))
        wants.push([target.disk, RC.DISK_GB, rnd.pick([10, 20, 40])]);
      // A migration holds a second CPU allocation on another host.
      if (consumerType === 2 && placementTargets.length > 1) {
        let other = rnd.pick(placementTargets);
        while (other === target) other = rnd.pick(placementTargets);
        wants.push([other.cpu, remaining.has(`${other.cpu}:${RC.PCPU}`) ? RC.PCPU : RC.VCPU, 1]);
      }
      if (!take(wants)) continue;
      for (const [rp, rc, n] of wants) alloc(rp, rc, n);
      break;
    }
  }
  // A consumer with no allocations left (Pike/Queens never deleted them).
  consumers.push({
    id: consumerCount + 1,
    uuid: rnd.uuid(),
    project_id: 1,
    user_id: 1,
    generation: 1,
    ...(typed ? { consumer_type_id: 1 } : {}),
    ...when(),
  });

  await insert(db, 'resource_providers', providers);
  await insert(db, 'inventories', inventories);
  await insert(db, 'resource_provider_traits', providerTraits);
  await insert(db, 'placement_aggregates', aggregates);
  await insert(db, 'resource_provider_aggregates', providerAggs);
  await insert(db, 'projects', projects);
  await insert(db, 'users', users);
  await insert(db, 'consumers', consumers);
  await insert(db, 'allocations', allocations);
  return facts;
}
