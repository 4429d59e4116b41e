/**
 * What placement's gabbi fixtures (placement/tests/functional/fixtures/
 * gabbits.py) prepare before a YAML file runs, redone against a running
 * service: the environment variables the YAML reads through $ENVIRON, and
 * the providers, inventories, traits, aggregates and allocations the
 * fixtures insert, made here through the HTTP API of the service under
 * test (the fixtures call placement's objects in-process, which a service
 * behind HTTP does not allow). Each write is the one the fixture's helper
 * makes, so generations come out the same: an inventory added one class at
 * a time, aggregates set below 1.19 (no generation), traits set once.
 *
 * Policy and CORS fixtures only configure the service: `serviceConfig`
 * says how, for the real placement; ours has no such configuration.
 */
import { randomUUID } from 'node:crypto';
import { send } from '../test/helpers/api-writes.js';

export type Env = Record<string, string>;

/** A fixture's configuration of the real placement: extra placement.conf sections, a policy file. */
export interface ServiceConfig {
  sections?: Record<string, Record<string, string>>;
  /** Every policy rule opened to any caller (OpenPolicyFixture). */
  openPolicy?: boolean;
}

export interface FixturePlan {
  /** Extra configuration for the service, or null when the fixture needs none. */
  config: ServiceConfig | null;
  /** Makes the fixture's rows through `base`; returns the environment it adds. */
  build?: (base: string, env: Env) => Promise<Env>;
}

/** Why a fixture cannot be redone here, or its plan. */
export type FixtureChoice = { plan: FixturePlan } | { skip: string };

/** A write that a fixture needs refused: the file cannot run as placement's tests run it. */
export class FixtureError extends Error {}

/** The variables APIFixture sets for every file: fresh uuids, as uuidutils.generate_uuid() makes. */
export function apiFixtureEnv(): Env {
  const env: Env = { CUSTOM_RES_CLASS: 'CUSTOM_IRON_NFV' };
  for (const name of [
    'RP_UUID',
    'RP_NAME',
    'PROJECT_ID',
    'USER_ID',
    'PROJECT_ID_ALT',
    'USER_ID_ALT',
    'INSTANCE_UUID',
    'MIGRATION_UUID',
    'CONSUMER_UUID',
    'PARENT_PROVIDER_UUID',
    'ALT_PARENT_PROVIDER_UUID',
  ]) {
    env[name] = randomUUID();
  }
  return env;
}

/** The placement API calls the fixtures' helpers (test_base.py) stand for. */
class Builder {
  private readonly knownClasses = new Set<string>();
  private readonly knownTraits = new Set<string>();
  constructor(private readonly base: string) {}

  private async call(method: string, path: string, version: string, body?: unknown) {
    const r = await send(this.base, {
      method,
      path,
      version,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (r.status >= 300) {
      throw new FixtureError(
        `${method} ${path} @${version} answered ${r.status}: ${r.text.slice(0, 300)}`,
      );
    }
    return r;
  }

  /** create_provider: a provider (uuid fresh, as uuidsentinel gives), aggregates without a generation bump. */
  async provider(name: string, o: { uuid?: string; parent?: string; aggs?: string[] } = {}) {
    const uuid = o.uuid ?? randomUUID();
    await this.call('POST', '/resource_providers', '1.20', {
      name,
      uuid,
      ...(o.parent ? { parent_provider_uuid: o.parent } : {}),
    });
    if (o.aggs && o.aggs.length > 0) await this.setAggregates(uuid, o.aggs);
    return uuid;
  }

  /** rp.set_aggregates: 1.18 and below neither takes nor moves the generation, like the object call. */
  async setAggregates(rp: string, aggs: string[]) {
    await this.call('PUT', `/resource_providers/${rp}/aggregates`, '1.18', aggs);
  }

  /** ensure_rc: a custom class is made when missing. */
  async ensureClass(name: string) {
    if (!name.startsWith('CUSTOM_') || this.knownClasses.has(name)) return;
    await this.call('PUT', `/resource_classes/${name}`, '1.7');
    this.knownClasses.add(name);
  }

  /** ResourceClass(...).create(): POST, which refuses an existing class. */
  async createClass(name: string) {
    await this.call('POST', '/resource_classes', '1.2', { name });
    this.knownClasses.add(name);
  }

  /** add_inventory: one class at a time (one generation each), max_unit defaulting to total. */
  async inventory(rp: string, rc: string, total: number, o: Record<string, number> = {}) {
    await this.ensureClass(rc);
    await this.call('POST', `/resource_providers/${rp}/inventories`, '1.0', {
      resource_class: rc,
      total,
      max_unit: total,
      ...o,
    });
  }

  /** set_traits: custom traits made when missing, then one PUT at the provider's generation. */
  async traits(rp: string, ...names: string[]) {
    for (const t of names) {
      if (t.startsWith('CUSTOM_') && !this.knownTraits.has(t)) {
        await this.call('PUT', `/traits/${t}`, '1.6');
        this.knownTraits.add(t);
      }
    }
    const g = (await this.call('GET', `/resource_providers/${rp}`, '1.6')).json as {
      generation: number;
    };
    await this.call('PUT', `/resource_providers/${rp}/traits`, '1.6', {
      resource_provider_generation: g.generation,
      traits: names,
    });
  }

  /** ensure_consumer + set_allocation: a consumer of `user` in `project` holding `resources` on one provider. */
  async allocate(
    consumer: string,
    rp: string,
    resources: Record<string, number>,
    who: { project: string; user: string },
  ) {
    await this.call('PUT', `/allocations/${consumer}`, '1.12', {
      allocations: { [rp]: { resources } },
      project_id: who.project,
      user_id: who.user,
    });
  }
}

async function allocationFixture(base: string, env: Env): Promise<Env> {
  const b = new Builder(base);
  const out: Env = { ALT_USER_ID: randomUUID() };
  const user = { project: env['PROJECT_ID']!, user: env['USER_ID']! };
  const alt = { project: env['PROJECT_ID']!, user: out['ALT_USER_ID']! };
  const rp = await b.provider(env['RP_NAME']!, { uuid: env['RP_UUID']! });
  await b.inventory(rp, 'DISK_GB', 2048, { step_size: 10, min_unit: 10, max_unit: 1000 });
  await b.inventory(rp, 'VCPU', 10, { max_unit: 10 });
  out['CONSUMER_0'] = randomUUID();
  await b.allocate(out['CONSUMER_0'], rp, { DISK_GB: 1000 }, user);
  out['CONSUMER_ID'] = randomUUID();
  await b.allocate(out['CONSUMER_ID'], rp, { VCPU: 6 }, user);
  out['ALT_CONSUMER_ID'] = randomUUID();
  await b.allocate(out['ALT_CONSUMER_ID'], rp, { DISK_GB: 20, VCPU: 1 }, alt);
  out['ALT_RP_UUID'] = randomUUID();
  out['ALT_RP_NAME'] = randomUUID();
  return out;
}

async function sharedStorageFixture(base: string): Promise<Env> {
  const b = new Builder(base);
  const agg = randomUUID();
  const out: Env = { AGG_UUID: agg };
  const cn1 = await b.provider('cn1', { aggs: [agg] });
  const cn2 = await b.provider('cn2', { aggs: [agg] });
  const ss = await b.provider('ss', { aggs: [agg] });
  const ss2 = await b.provider('ss2', { aggs: [agg] });
  const numa: Record<string, string> = {};
  for (const [n, parent] of [
    ['1_1', cn1],
    ['1_2', cn1],
    ['2_1', cn2],
    ['2_2', cn2],
  ] as const) {
    numa[n] = await b.provider(`numa${n}`, { parent });
  }
  const pf: Record<string, string> = {};
  for (const n of ['1_1', '1_2', '2_1', '2_2'])
    pf[n] = await b.provider(`pf${n}`, { parent: numa[n] });
  Object.assign(out, { CN1_UUID: cn1, CN2_UUID: cn2, SS_UUID: ss, SS2_UUID: ss2 });
  for (const n of Object.keys(numa)) out[`NUMA${n}_UUID`] = numa[n]!;
  for (const n of Object.keys(pf)) out[`PF${n}_UUID`] = pf[n]!;
  for (const cn of [cn1, cn2]) {
    await b.inventory(cn, 'VCPU', 24, { allocation_ratio: 16.0 });
    await b.inventory(cn, 'MEMORY_MB', 128 * 1024, { allocation_ratio: 1.5 });
  }
  await b.traits(cn1, 'HW_CPU_X86_SSE', 'HW_CPU_X86_SSE2');
  await b.inventory(cn2, 'DISK_GB', 2000, { reserved: 100, allocation_ratio: 1.0 });
  for (const s of [ss, ss2]) {
    await b.inventory(s, 'DISK_GB', 2000, { reserved: 100, allocation_ratio: 1.0 });
    await b.traits(s, 'MISC_SHARES_VIA_AGGREGATE');
  }
  for (const p of Object.values(pf))
    await b.inventory(p, 'SRIOV_NET_VF', 8, { allocation_ratio: 1.0 });
  return out;
}

async function numaAggregateFixture(base: string): Promise<Env> {
  const b = new Builder(base);
  const [aggA, aggB, aggC] = [randomUUID(), randomUUID(), randomUUID()];
  const cn1 = await b.provider('cn1', { aggs: [aggA] });
  const cn2 = await b.provider('cn2', { aggs: [aggA, aggB] });
  const ss1 = await b.provider('ss1', { aggs: [aggA] });
  const ss2 = await b.provider('ss2', { aggs: [aggC] });
  const numa1_1 = await b.provider('numa1_1', { parent: cn1, aggs: [aggC] });
  const numa1_2 = await b.provider('numa1_2', { parent: cn1 });
  const numa2_1 = await b.provider('numa2_1', { parent: cn2 });
  const numa2_2 = await b.provider('numa2_2', { parent: cn2 });
  for (const n of [numa1_1, numa1_2, numa2_1, numa2_2]) {
    await b.inventory(n, 'VCPU', 24, { allocation_ratio: 16.0 });
  }
  for (const s of [ss1, ss2]) {
    await b.inventory(s, 'DISK_GB', 2000, { reserved: 100, allocation_ratio: 1.0 });
    await b.traits(s, 'MISC_SHARES_VIA_AGGREGATE');
  }
  return {
    AGGA_UUID: aggA,
    AGGB_UUID: aggB,
    AGGC_UUID: aggC,
    CN1_UUID: cn1,
    CN2_UUID: cn2,
    SS1_UUID: ss1,
    SS2_UUID: ss2,
    NUMA1_1_UUID: numa1_1,
    NUMA1_2_UUID: numa1_2,
    NUMA2_1_UUID: numa2_1,
    NUMA2_2_UUID: numa2_2,
  };
}

/** NUMANetworkFixture.make_entities; `cn1`/`cn2` already made by DeepNUMANetworkFixture. */
async function numaNetworkEntities(
  b: Builder,
  pre: { cn1?: string; cn2?: string } = {},
): Promise<Env> {
  const out: Env = {};
  const aggA = randomUUID();
  out['AGGA_UUID'] = aggA;
  const ss1 = await b.provider('ss1', { aggs: [aggA] });
  await b.traits(ss1, 'MISC_SHARES_VIA_AGGREGATE');
  await b.inventory(ss1, 'DISK_GB', 2000);
  out['SS1_UUID'] = ss1;

  const cn1 = pre.cn1 ?? (await b.provider('cn1', { aggs: [aggA] }));
  await b.setAggregates(cn1, [aggA]);
  await b.traits(cn1, 'COMPUTE_VOLUME_MULTI_ATTACH');
  out['CN1_UUID'] = cn1;

  const numas: string[] = [];
  for (const i of [0, 1]) {
    const numa = await b.provider(`numa${i}`, { parent: cn1 });
    await b.traits(numa, ...(i === 1 ? ['HW_NUMA_ROOT', 'CUSTOM_FOO'] : ['HW_NUMA_ROOT']));
    await b.inventory(numa, 'VCPU', 4);
    numas.push(numa);
    out[`NUMA${i}_UUID`] = numa;
  }
  await b.inventory(numas[0]!, 'MEMORY_MB', 2048, { min_unit: 512, step_size: 256 });
  await b.inventory(numas[1]!, 'MEMORY_MB', 2048, { min_unit: 256, max_unit: 1024 });
  const who = { project: 'numafx-project', user: 'numafx-user' };
  await b.allocate(randomUUID(), numas[0]!, { VCPU: 2 }, who);

  const fpga = await b.provider('fpga0', { parent: numas[0]! });
  await b.inventory(fpga, 'CUSTOM_FPGA', 1);
  out['FPGA0_UUID'] = fpga;
  const pgpu = await b.provider('pgpu0', { parent: numas[0]! });
  await b.inventory(pgpu, 'VGPU', 8);
  out['PGPU0_UUID'] = pgpu;
  for (const i of [0, 1]) {
    const f = await b.provider(`fpga1_${i}`, { parent: numas[1]! });
    await b.inventory(f, 'CUSTOM_FPGA', 1);
    out[`FPGA1_${i}_UUID`] = f;
  }

  const sriov = await b.provider('sriov_agent', { parent: cn1 });
  await b.traits(sriov, 'CUSTOM_VNIC_TYPE_DIRECT');
  out['SRIOV_AGENT_UUID'] = sriov;
  for (const i of [1, 2]) {
    const dev = await b.provider(`esn${i}`, { parent: sriov });
    await b.traits(dev, `CUSTOM_PHYSNET${i}`);
    await b.inventory(dev, 'NET_BW_EGR_KILOBIT_PER_SEC', 10000 * i);
    out[`ESN${i}_UUID`] = dev;
  }
  const ovs = await b.provider('ovs_agent', { parent: cn1 });
  await b.traits(ovs, 'CUSTOM_VNIC_TYPE_NORMAL');
  out['OVS_AGENT_UUID'] = ovs;
  const brInt = await b.provider('br_int', { parent: ovs });
  await b.traits(brInt, 'CUSTOM_PHYSNET0');
  await b.inventory(brInt, 'NET_BW_EGR_KILOBIT_PER_SEC', 1000);
  out['BR_INT_UUID'] = brInt;

  const cn2 = pre.cn2 ?? (await b.provider('cn2'));
  await b.setAggregates(cn2, [aggA]);
  await b.inventory(cn2, 'VCPU', 8);
  await b.allocate(randomUUID(), cn2, { VCPU: 3 }, who);
  await b.inventory(cn2, 'MEMORY_MB', 2048, { min_unit: 1024, step_size: 128 });
  await b.inventory(cn2, 'DISK_GB', 1000);
  await b.traits(cn2, 'CUSTOM_FOO');
  out['CN2_UUID'] = cn2;

  const nics: string[] = [];
  for (const i of [1, 2, 3]) {
    const nic = await b.provider(`nic${i}`, { parent: cn2 });
    await b.traits(nic, 'CUSTOM_HW_NIC_ROOT');
    nics.push(nic);
    out[`NIC${i}_UUID`] = nic;
  }
  const pfs: [string, string, number, number][] = [
    ['1_1', nics[0]!, 1, 4],
    ['1_2', nics[0]!, 2, 4],
    ['2_1', nics[1]!, 1, 2],
    ['2_2', nics[1]!, 2, 2],
    ['2_3', nics[1]!, 1, 2],
    ['2_4', nics[1]!, 2, 2],
    ['3_1', nics[2]!, 1, 8],
  ];
  for (const [suffix, nic, physnet, vfs] of pfs) {
    const pf = await b.provider(`pf${suffix}`, { parent: nic });
    await b.traits(pf, `CUSTOM_PHYSNET${physnet}`);
    await b.inventory(pf, 'CUSTOM_VF', vfs);
    out[`PF${suffix}_UUID`] = pf;
  }
  return out;
}

async function deepNumaNetworkFixture(base: string): Promise<Env> {
  const b = new Builder(base);
  const gp1 = await b.provider('gp1');
  const p1 = await b.provider('p1', { parent: gp1 });
  const p2 = await b.provider('p2', { parent: gp1 });
  const cn1 = await b.provider('cn1', { parent: p1 });
  const cn2 = await b.provider('cn2', { parent: p2 });
  return numaNetworkEntities(b, { cn1, cn2 });
}

async function nonSharedStorageFixture(base: string): Promise<Env> {
  const b = new Builder(base);
  const out: Env = { AGGA_UUID: randomUUID(), AGGB_UUID: randomUUID(), AGGC_UUID: randomUUID() };
  for (const n of [1, 2, 3]) out[`CN${n}_UUID`] = await b.provider(`cn${n}`);
  for (const n of [1, 2, 3]) {
    const cn = out[`CN${n}_UUID`]!;
    await b.inventory(cn, 'VCPU', 24);
    await b.inventory(cn, 'MEMORY_MB', 128 * 1024);
    await b.inventory(cn, 'DISK_GB', 2000);
  }
  return out;
}

async function granularFixture(base: string): Promise<Env> {
  const b = new Builder(base);
  await b.createClass('CUSTOM_NET_MBPS');
  const [aggA, aggB, aggC] = [randomUUID(), randomUUID(), randomUUID()];
  const out: Env = { AGGA: aggA, AGGB: aggB, AGGC: aggC };
  const left = await b.provider('cn_left', { aggs: [aggA] });
  out['CN_LEFT'] = left;
  await b.inventory(left, 'VCPU', 8);
  await b.inventory(left, 'MEMORY_MB', 4096);
  await b.inventory(left, 'DISK_GB', 500);
  await b.inventory(left, 'VGPU', 8);
  await b.inventory(left, 'SRIOV_NET_VF', 8);
  await b.inventory(left, 'CUSTOM_NET_MBPS', 4000);
  await b.traits(
    left,
    'HW_CPU_X86_AVX',
    'HW_CPU_X86_AVX2',
    'HW_GPU_API_DXVA',
    'HW_NIC_DCB_PFC',
    'CUSTOM_FOO',
  );
  const middle = await b.provider('cn_middle', { aggs: [aggA, aggB] });
  out['CN_MIDDLE'] = middle;
  await b.inventory(middle, 'VCPU', 8);
  await b.inventory(middle, 'MEMORY_MB', 4096);
  await b.inventory(middle, 'SRIOV_NET_VF', 8);
  await b.inventory(middle, 'CUSTOM_NET_MBPS', 4000);
  await b.traits(middle, 'HW_CPU_X86_AVX', 'HW_CPU_X86_AVX2', 'HW_CPU_X86_SSE', 'HW_NIC_ACCEL_TLS');
  const right = await b.provider('cn_right', { aggs: [aggB, aggC] });
  out['CN_RIGHT'] = right;
  await b.inventory(right, 'VCPU', 8);
  await b.inventory(right, 'MEMORY_MB', 4096);
  await b.inventory(right, 'DISK_GB', 500);
  await b.inventory(right, 'VGPU', 8, { max_unit: 2 });
  await b.traits(right, 'HW_CPU_X86_MMX', 'HW_GPU_API_DXVA', 'CUSTOM_DISK_SSD');
  const shr1 = await b.provider('shr_disk_1', { aggs: [aggA] });
  out['SHR_DISK_1'] = shr1;
  await b.inventory(shr1, 'DISK_GB', 1000);
  await b.traits(shr1, 'MISC_SHARES_VIA_AGGREGATE', 'CUSTOM_DISK_SSD');
  const shr2 = await b.provider('shr_disk_2', { aggs: [aggA, aggB] });
  out['SHR_DISK_2'] = shr2;
  await b.inventory(shr2, 'DISK_GB', 1000);
  await b.traits(shr2, 'MISC_SHARES_VIA_AGGREGATE');
  const net = await b.provider('shr_net', { aggs: [aggC] });
  out['SHR_NET'] = net;
  await b.inventory(net, 'SRIOV_NET_VF', 16);
  await b.inventory(net, 'CUSTOM_NET_MBPS', 40000);
  await b.traits(net, 'MISC_SHARES_VIA_AGGREGATE');
  return out;
}

const SRIOV_VNIC = [
  'CUSTOM_VNIC_TYPE_DIRECT',
  'CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL',
  'CUSTOM_VNIC_TYPE_MACVTAP',
];

/** Four compute trees of Neutron's QoS with multi-segment networks; compute3 has two of each device. */
async function neutronQosMultiSegmentFixture(base: string): Promise<Env> {
  const b = new Builder(base);
  const out: Env = {};
  const computes: [string, [string, string, number][], [string, string, number][]][] = [
    [
      'compute0',
      [['br_ex', 'CUSTOM_PHYSNET_OTHER', 5000]],
      [['pf0', 'CUSTOM_PHYSNET_OTHER', 10000]],
    ],
    [
      'compute1',
      [['br_ex', 'CUSTOM_PHYSNET_MSN_S1', 5000]],
      [['pf0', 'CUSTOM_PHYSNET_MSN_S1', 10000]],
    ],
    [
      'compute2',
      [['br_ex', 'CUSTOM_PHYSNET_MSN_S2', 5000]],
      [['pf0', 'CUSTOM_PHYSNET_MSN_S2', 10000]],
    ],
    [
      'compute3',
      [
        ['br_ex', 'CUSTOM_PHYSNET_MSN_S1', 1000],
        ['br_ex2', 'CUSTOM_PHYSNET_MSN_S2', 1000],
      ],
      [
        ['pf0', 'CUSTOM_PHYSNET_MSN_S1', 1000],
        ['pf1', 'CUSTOM_PHYSNET_MSN_S2', 1000],
      ],
    ],
  ];
  const device = {
    br_ex: 'br-ex',
    br_ex2: 'br-ex2',
    pf0: 'enp129s0f0',
    pf1: 'enp129s0f1',
  } as Record<string, string>;
  for (const [name, bridges, pfs] of computes) {
    const cn = await b.provider(name);
    out[name] = cn;
    await b.inventory(cn, 'VCPU', 8);
    await b.inventory(cn, 'MEMORY_MB', 4096);
    await b.inventory(cn, 'DISK_GB', 500);
    const ovs = await b.provider(`${name}:Open vSwitch agent`, { parent: cn });
    out[`${name}:ovs_agent`] = ovs;
    await b.inventory(ovs, 'NET_PACKET_RATE_KILOPACKET_PER_SEC', 1000);
    await b.traits(ovs, 'CUSTOM_VNIC_TYPE_NORMAL');
    for (const [key, physnet, bw] of bridges) {
      const br = await b.provider(`${name}:Open vSwitch agent:${device[key]}`, { parent: ovs });
      out[`${name}:${key}`] = br;
      await b.inventory(br, 'NET_BW_EGR_KILOBIT_PER_SEC', bw);
      await b.inventory(br, 'NET_BW_IGR_KILOBIT_PER_SEC', bw);
      await b.traits(br, 'CUSTOM_VNIC_TYPE_NORMAL', physnet);
    }
    const sriov = await b.provider(`${name}:NIC Switch agent`, { parent: cn });
    out[`${name}:sriov_agent`] = sriov;
    await b.traits(sriov, ...SRIOV_VNIC);
    for (const [key, physnet, bw] of pfs) {
      const pf = await b.provider(`${name}:NIC Switch agent:${device[key]}`, { parent: sriov });
      out[`${name}:${key}`] = pf;
      await b.inventory(pf, 'NET_BW_EGR_KILOBIT_PER_SEC', bw);
      await b.inventory(pf, 'NET_BW_IGR_KILOBIT_PER_SEC', bw);
      await b.traits(pf, ...SRIOV_VNIC, physnet);
    }
  }
  // The fixture sets compute3:sriov_agent to compute2's agent; the YAML may rely on it.
  out['compute3:sriov_agent'] = out['compute2:sriov_agent']!;
  return out;
}

/** The policy files' rules opened to any caller, and the secure-RBAC and CORS settings. */
const SECURE_RBAC: ServiceConfig = {
  sections: { oslo_policy: { enforce_scope: 'True', enforce_new_defaults: 'True' } },
};
const CORS: ServiceConfig = {
  sections: {
    cors: { allowed_origin: 'http://valid.example.com', allow_headers: 'openstack-api-version' },
  },
};

/**
 * How to redo a file's fixtures on `target`. Fixture classes combine (a
 * file names a list), but every file in placement 8.0.0 names one.
 */
export function chooseFixtures(fixtures: string[], target: 'ours' | 'real'): FixtureChoice {
  if (fixtures.length !== 1) return { skip: `fixtures ${fixtures.join(', ')}: one was expected` };
  const name = fixtures[0]!;
  const rows = (build: FixturePlan['build']): FixtureChoice => ({ plan: { config: null, build } });
  const configured = (config: ServiceConfig, what: string): FixtureChoice =>
    target === 'real'
      ? { plan: { config } }
      : { skip: `${name} configures ${what}; api serve has no such configuration` };
  switch (name) {
    // LegacyRBACPolicyFixture's enforce_scope/enforce_new_defaults are placement's defaults: APIFixture itself.
    case 'APIFixture':
    case 'LegacyRBACPolicyFixture':
      return { plan: { config: null } };
    case 'AllocationFixture':
      return rows(allocationFixture);
    case 'SharedStorageFixture':
      return rows(sharedStorageFixture);
    case 'NUMAAggregateFixture':
      return rows(numaAggregateFixture);
    case 'NUMANetworkFixture':
      return rows((base) => numaNetworkEntities(new Builder(base)));
    case 'DeepNUMANetworkFixture':
      return rows(deepNumaNetworkFixture);
    case 'NonSharedStorageFixture':
      return rows(nonSharedStorageFixture);
    case 'GranularFixture':
      return rows(granularFixture);
    case 'NeutronQoSMultiSegmentFixture':
      return rows(neutronQosMultiSegmentFixture);
    case 'SecureRBACPolicyFixture':
      return configured(SECURE_RBAC, 'secure RBAC (enforce_scope, enforce_new_defaults)');
    case 'OpenPolicyFixture':
      return configured({ openPolicy: true }, 'a policy file');
    case 'CORSFixture':
      return configured(CORS, 'CORS');
    default:
      return { skip: `unknown fixture ${name}` };
  }
}
