/**
 * The GET /allocation_candidates requests the differential tests send:
 * queries over the fixed zoo at every microversion where the route's
 * behaviour changes (each feature also one version before it appears, where
 * placement refuses it), every 400 placement's parsing gives, and random
 * well-formed queries for the property tests.
 *
 * Error texts that embed a Python set in hash order (several bad suffixes,
 * several unknown traits) are avoided: each such request names one.
 */
import type { ApiCall } from './api-compare.js';
import {
  CUSTOM_TRAITS,
  RANDOM_AGGREGATES,
  RANDOM_STANDARD_TRAITS,
  type BuiltTopology,
} from './candidate-topologies.js';
import { prng } from './placement-cloud.js';

/** Every microversion at which GET /allocation_candidates changes (1.10 is where it appears). */
export const CANDIDATE_VERSIONS = [
  '1.10',
  '1.11',
  '1.12',
  '1.16',
  '1.17',
  '1.21',
  '1.22',
  '1.24',
  '1.25',
  '1.27',
  '1.28',
  '1.29',
  '1.31',
  '1.32',
  '1.33',
  '1.34',
  '1.35',
  '1.36',
  '1.37',
  '1.38',
  '1.39',
];

const LATEST = '1.39';
const UNKNOWN_UUID = 'a2b0b2fc-9d8e-4e4c-9d7f-5f7e2c1d0b99';

/** A request to GET /allocation_candidates; `limit` says the answer is compared as a limited one. */
export interface CandidateCall extends ApiCall {
  limit?: number;
}

function candidates(query: string, version: string): CandidateCall {
  const call: CandidateCall = { path: `/allocation_candidates?${query}`, version };
  const limit = /(?:^|&)limit=([1-9]\d*)(?:&|$)/.exec(query);
  if (limit) call.limit = Number(limit[1]);
  return call;
}

/**
 * Whether placement 8.0.0's amounts are undefined for this query: when a
 * resource class is asked for by the unsuffixed group and by a suffixed
 * one, and group_policy is not `none`, placement folds the two amounts
 * into the AllocationRequestResource object shared by every candidate
 * (research_context.copy_arr_if_needed copies only under `none`), so
 * amounts pile up across candidates in an order that changes with
 * Python's hash seed — two placements on one database disagree. Such
 * answers cannot be compared; only their status is.
 */
export function amountsUndefinedIn800(c: ApiCall): boolean {
  const query = new URLSearchParams(c.path.split('?')[1] ?? '');
  if (query.get('group_policy') === 'none') return false;
  const unsuffixed = new Set<string>();
  const suffixed = new Set<string>();
  for (const [k, v] of query) {
    const m = /^resources(.*)$/.exec(k);
    if (!m) continue;
    for (const rc of v.split(',').map((x) => x.split(':')[0]!)) {
      (m[1] === '' ? unsuffixed : suffixed).add(rc);
    }
  }
  return [...unsuffixed].some((rc) => suffixed.has(rc));
}

/** The version just before `v` among the route's change points (for "not yet" answers). */
function before(v: string): string {
  const minor = Number(v.split('.')[1]);
  return `1.${minor - 1}`;
}

/** Queries with resources only, valid at every version (answers differ with summaries and nesting). */
function coreQueries(): string[] {
  return [
    'resources=VCPU:1',
    'resources=VCPU:1,MEMORY_MB:512',
    'resources=VCPU:1,MEMORY_MB:512,DISK_GB:10',
    'resources=DISK_GB:15',
    'resources=DISK_GB:100',
    'resources=DISK_GB:50',
    'resources=MEMORY_MB:2048',
    'resources=MEMORY_MB:64',
    'resources=VCPU:30',
    'resources=VCPU:2,IPV4_ADDRESS:1',
    'resources=VCPU:1,IPV4_ADDRESS:1,DISK_GB:20',
    'resources=SRIOV_NET_VF:1',
    'resources=CUSTOM_MAGIC:1',
    'resources=FPGA:1,VCPU:1',
    'resources=VGPU:1,VCPU:2,MEMORY_MB:1024',
    'resources=SRIOV_NET_VF:2,NET_BW_EGR_KILOBIT_PER_SEC:1000',
    'resources=NET_BW_EGR_KILOBIT_PER_SEC:150',
    'resources=VCPU:1000',
    'resources=VCPU:1,MEMORY_MB:512,DISK_GB:10,VGPU:1',
  ];
}

/** Queries for one feature: [first version it is valid at, query]. */
function featureQueries(b: BuiltTopology): [string, string][] {
  // A zoo without sharing providers has no ss1: such a query then names a provider that is not there.
  const rp = (k: string) => b.providers[k] ?? UNKNOWN_UUID;
  const agg = (k: string) => b.aggregates[k]!;
  const compute = 'VCPU:1,MEMORY_MB:512';
  return [
    ['1.16', 'resources=VCPU:1&limit=1'],
    ['1.16', 'resources=VCPU:1&limit=3'],
    ['1.16', 'resources=VCPU:1,DISK_GB:10&limit=2'],
    ['1.16', 'resources=VCPU:1&limit=1000'],
    ['1.17', 'resources=VCPU:1&required=HW_CPU_X86_AVX2'],
    ['1.17', `resources=${compute}&required=HW_CPU_X86_AVX2,CUSTOM_FOO`],
    ['1.17', 'resources=FPGA:1&required=CUSTOM_GOLD'],
    ['1.17', 'resources=VCPU:1,DISK_GB:10&required=STORAGE_DISK_SSD'],
    ['1.17', 'resources=VCPU:1,MEMORY_MB:256&required=HW_NUMA_ROOT'],
    ['1.17', 'resources=SRIOV_NET_VF:1&required=CUSTOM_PHYSNET_B'],
    ['1.17', 'resources=VCPU:1&required=COMPUTE_NODE&required=CUSTOM_BAR'],
    ['1.21', `resources=VCPU:1&member_of=${agg('aggA')}`],
    ['1.21', `resources=VCPU:1&member_of=in:${agg('aggA')},${agg('aggB')}`],
    ['1.21', `resources=VCPU:1,DISK_GB:10&member_of=${agg('aggShare1')}`],
    ['1.21', `resources=SRIOV_NET_VF:1&member_of=${agg('aggChild')}`],
    ['1.21', `resources=VCPU:1&member_of=${UNKNOWN_UUID}`],
    ['1.22', 'resources=VCPU:1&required=!COMPUTE_STATUS_DISABLED'],
    ['1.22', `resources=${compute}&required=HW_CPU_X86_AVX2,!CUSTOM_BAR`],
    ['1.22', 'resources=VCPU:1,DISK_GB:10&required=!STORAGE_DISK_SSD'],
    ['1.22', 'resources=VCPU:1&required=!!CUSTOM_FOO'],
    ['1.24', `resources=VCPU:1&member_of=${agg('aggA')}&member_of=${agg('aggShare1')}`],
    [
      '1.24',
      `resources=VCPU:1&member_of=in:${agg('aggA')},${agg('aggB')}&member_of=${agg('aggB')}`,
    ],
    ['1.25', 'resources1=VCPU:1&resources2=VCPU:1&group_policy=none'],
    ['1.25', 'resources1=VCPU:1&resources2=VCPU:1&group_policy=isolate'],
    ['1.25', 'resources=DISK_GB:10&resources1=VCPU:1,MEMORY_MB:512&group_policy=isolate'],
    ['1.25', 'resources1=VCPU:1,MEMORY_MB:512&required1=HW_NUMA_ROOT&resources=DISK_GB:10'],
    // A sharing provider in the unsuffixed group, merged with a suffixed group.
    ['1.25', 'resources=DISK_GB:10&resources1=VCPU:1,MEMORY_MB:512&group_policy=none'],
    ['1.25', 'resources=IPV4_ADDRESS:1&resources1=VCPU:1&group_policy=none'],
    ['1.25', 'resources=DISK_GB:10,IPV4_ADDRESS:1&resources1=VCPU:1&group_policy=isolate'],
    ['1.25', 'resources1=DISK_GB:10&resources2=VCPU:1&group_policy=isolate'],
    ['1.25', 'resources1=DISK_GB:10&resources2=IPV4_ADDRESS:1&resources3=VCPU:1&group_policy=none'],
    [
      '1.25',
      'resources1=SRIOV_NET_VF:1&required1=CUSTOM_PHYSNET_A&resources2=SRIOV_NET_VF:1&required2=CUSTOM_PHYSNET_B&group_policy=isolate',
    ],
    [
      '1.25',
      'resources1=SRIOV_NET_VF:1&required1=CUSTOM_PHYSNET_A&resources2=SRIOV_NET_VF:1&required2=CUSTOM_PHYSNET_B&group_policy=none',
    ],
    ['1.25', `resources1=VCPU:1&member_of1=${agg('aggA')}`],
    ['1.25', `resources=VCPU:1&resources1=DISK_GB:10&member_of1=${agg('aggShare1')}`],
    ['1.25', 'resources=VCPU:1&resources1=FPGA:1&resources2=FPGA:1&group_policy=none'],
    ['1.25', 'resources=VCPU:2&resources1=VCPU:1&group_policy=none&limit=2'],
    ['1.25', 'resources=VCPU:1,DISK_GB:1&resources1=DISK_GB:10&group_policy=none'],
    // Placement 8.0.0's amounts are undefined for these two (status compared only).
    ['1.25', 'resources=VCPU:1,DISK_GB:1&resources1=DISK_GB:10'],
    ['1.25', 'resources=VCPU:1&resources1=VCPU:1&resources2=MEMORY_MB:1&group_policy=isolate'],
    ['1.31', `resources=VCPU:1&in_tree=${rp('nc1')}`],
    ['1.31', `resources=VCPU:1,FPGA:1&in_tree=${rp('nc1_numa1')}`],
    ['1.31', `resources=VCPU:1&in_tree=${UNKNOWN_UUID}`],
    ['1.31', `resources=VCPU:1,DISK_GB:10&in_tree=${rp('ss1')}`],
    ['1.31', `resources=VCPU:1&resources1=SRIOV_NET_VF:1&in_tree1=${rp('nc2')}`],
    ['1.32', `resources=VCPU:1&member_of=!${agg('aggA')}`],
    ['1.32', `resources=VCPU:1&member_of=!in:${agg('aggA')},${agg('aggB')}`],
    ['1.32', `resources=VCPU:1,DISK_GB:10&member_of=!${agg('aggShare1')}`],
    ['1.33', 'resources_COMPUTE=VCPU:1&resources_NET=SRIOV_NET_VF:1&group_policy=none'],
    [
      '1.33',
      'resources_COMPUTE=VCPU:1,MEMORY_MB:256&required_COMPUTE=CUSTOM_FOO&resources_ACCEL-1=FPGA:1&group_policy=isolate',
    ],
    ['1.35', 'resources=VCPU:1&root_required=COMPUTE_NODE'],
    ['1.35', 'resources=VCPU:1&root_required=!CUSTOM_FOO'],
    ['1.35', 'resources=VCPU:1&root_required=COMPUTE_VOLUME_MULTI_ATTACH,!COMPUTE_STATUS_DISABLED'],
    ['1.35', 'resources=VCPU:1,DISK_GB:10&root_required=STORAGE_DISK_SSD'],
    [
      '1.36',
      'resources=DISK_GB:10&required=COMPUTE_VOLUME_MULTI_ATTACH&resources_COMPUTE=VCPU:1,MEMORY_MB:256&required_COMPUTE=CUSTOM_FOO&resources_FPGA=FPGA:1&group_policy=none&same_subtree=_COMPUTE,_FPGA',
    ],
    ['1.36', 'resources_A=VCPU:1&resources_B=SRIOV_NET_VF:1&same_subtree=_A,_B&group_policy=none'],
    [
      '1.36',
      'required_NUMA=HW_NUMA_ROOT&resources_ACC=FPGA:1&same_subtree=_NUMA,_ACC&resources=VCPU:1&group_policy=none',
    ],
    [
      '1.36',
      'required_NUMA=HW_NUMA_ROOT&resources_VF=SRIOV_NET_VF:1&resources_CPU=VCPU:1&same_subtree=_NUMA,_VF,_CPU&group_policy=isolate',
    ],
    [
      '1.36',
      'required_X=CUSTOM_BAR&resources_G=VGPU:1&same_subtree=_X,_G&resources_C=VCPU:1&same_subtree=_C,_G&group_policy=none',
    ],
    ['1.39', 'resources=VCPU:1&required=in:CUSTOM_FOO,CUSTOM_BAR'],
    ['1.39', 'resources=VCPU:1&required=in:CUSTOM_FOO,CUSTOM_BAR&required=COMPUTE_NODE'],
    ['1.39', 'resources=VCPU:1&required=HW_CPU_X86_AVX2&required=!CUSTOM_BAR'],
    [
      '1.39',
      'resources1=SRIOV_NET_VF:1&required1=in:CUSTOM_PHYSNET_A,CUSTOM_PHYSNET_B&required1=!CUSTOM_PHYSNET_B',
    ],
    ['1.39', 'resources=VCPU:1,DISK_GB:10&required=in:STORAGE_DISK_SSD,CUSTOM_FOO'],
  ];
}

/**
 * Requests placement refuses, each with its error text (one element where
 * the text would print a Python set), at the versions where they are errors.
 */
function errorQueries(b: BuiltTopology): [string, string][] {
  const agg = (k: string) => b.aggregates[k]!;
  const out: [string, string][] = [];
  for (const v of ['1.10', '1.25', LATEST]) {
    out.push(
      [v, 'resources=VCPU'],
      [v, 'resources='],
      [v, 'resources=%20'],
      [v, 'resources=VCPU:0'],
      [v, 'resources=VCPU:-1'],
      [v, 'resources=VCPU:abc'],
      [v, 'resources=VCPU:1:2'],
      [v, 'resources=VCPU:1,'],
      [v, 'resources=CUSTOM_NOPE:1'],
      [v, 'resources=vcpu:1'],
      [v, 'resources=VCPU:1&foo=bar'],
      [v, ''],
      [v, 'resources=VCPU:1&resources=MEMORY_MB:1'],
    );
  }
  out.push(
    ['1.16', 'resources=VCPU:1&limit=0'],
    ['1.16', 'resources=VCPU:1&limit=-1'],
    ['1.16', 'resources=VCPU:1&limit=abc'],
    ['1.16', 'resources=VCPU:1&limit='],
    [LATEST, 'resources=VCPU:1&limit=01'],
    ['1.15', 'resources=VCPU:1&limit=1'],
    ['1.17', 'resources=VCPU:1&required=CUSTOM_NOPE'],
    ['1.17', 'resources=VCPU:1&required='],
    ['1.17', 'resources=VCPU:1&required=CUSTOM_FOO,'],
    ['1.21', 'resources=VCPU:1&required=!CUSTOM_FOO'],
    [LATEST, 'resources=VCPU:1&required=CUSTOM_FOO,!CUSTOM_FOO'],
    [LATEST, 'resources=VCPU:1&required=!'],
    ['1.38', 'resources=VCPU:1&required=in:CUSTOM_FOO,CUSTOM_BAR'],
    [LATEST, 'resources=VCPU:1&required=in:CUSTOM_FOO,!CUSTOM_BAR'],
    [LATEST, 'resources=VCPU:1&required=in:CUSTOM_FOO,'],
    [LATEST, 'resources=VCPU:1&required=in:CUSTOM_NOPE'],
    [LATEST, 'resources=VCPU:1&required=in:CUSTOM_FOO&required=!CUSTOM_FOO'],
    ['1.21', 'resources=VCPU:1&member_of=not-a-uuid'],
    ['1.21', `resources=VCPU:1&member_of=${agg('aggA')},${agg('aggB')}`],
    ['1.23', `resources=VCPU:1&member_of=${agg('aggA')}&member_of=${agg('aggB')}`],
    ['1.31', `resources=VCPU:1&member_of=!${agg('aggA')}`],
    [LATEST, 'resources=VCPU:1&member_of=in:not-a-uuid'],
    [LATEST, 'resources=VCPU:1&member_of=!in:'],
    ['1.24', 'resources1=VCPU:1'],
    ['1.25', 'required=CUSTOM_FOO&resources1=VCPU:1'],
    ['1.25', `resources=VCPU:1&member_of1=${agg('aggA')}`],
    ['1.35', 'resources=VCPU:1&required1=CUSTOM_FOO'],
    ['1.25', 'resources1=VCPU:1&resources2=MEMORY_MB:1'],
    [LATEST, 'resources1=VCPU:1&resources2=MEMORY_MB:1'],
    ['1.25', 'resources1=VCPU:1&group_policy=bogus'],
    ['1.25', 'resources1=VCPU:1&group_policy='],
    ['1.24', 'resources=VCPU:1&group_policy=none'],
    ['1.25', 'resources0=VCPU:1'],
    ['1.32', 'resources_A=VCPU:1'],
    [LATEST, `resources_${'x'.repeat(65)}=VCPU:1`],
    [LATEST, 'resources_a.b=VCPU:1'],
    ['1.31', 'resources=VCPU:1&in_tree=not-a-uuid'],
    ['1.30', `resources=VCPU:1&in_tree=${UNKNOWN_UUID}`],
    [LATEST, 'resources=VCPU:1&in_tree='],
    [LATEST, 'resources=VCPU:1&resources1=VCPU:1&in_tree1=nope&group_policy=none'],
    ['1.36', 'resources_A=VCPU:1&same_subtree=_X'],
    ['1.36', 'resources_A=VCPU:1&same_subtree=_A,'],
    ['1.36', 'resources_A=VCPU:1&same_subtree='],
    ['1.36', 'resources=VCPU:1&required_A=CUSTOM_FOO'],
    ['1.36', 'required_A=CUSTOM_FOO&same_subtree=_A'],
    ['1.36', 'resources=VCPU:1&member_of_A=' + agg('aggA')],
    ['1.35', 'resources_A=VCPU:1&same_subtree=_A'],
    ['1.34', 'resources=VCPU:1&root_required=COMPUTE_NODE'],
    ['1.35', 'resources=VCPU:1&root_required=COMPUTE_NODE&root_required=CUSTOM_FOO'],
    ['1.35', 'resources=VCPU:1&root_required=COMPUTE_NODE,!COMPUTE_NODE'],
    ['1.35', 'resources=VCPU:1&root_required=CUSTOM_NOPE'],
    ['1.35', 'resources=VCPU:1&root_required='],
    [LATEST, 'resources=VCPU:1&root_required=in:COMPUTE_NODE,CUSTOM_FOO'],
    [LATEST, 'resources=VCPU:1&resources_A=VCPU:1&same_subtree=_A,_B&group_policy=none'],
  );
  return out;
}

/** Requests outside the route's versions and methods. */
function routeQueries(): CandidateCall[] {
  return [
    { path: '/allocation_candidates?resources=VCPU:1', version: '1.9' },
    { path: '/allocation_candidates?resources=VCPU:1', version: '1.0' },
    { path: '/allocation_candidates?resources=VCPU:1' },
    { path: '/allocation_candidates?resources=VCPU:1', version: '1.40' },
    { path: '/allocation_candidates?resources=VCPU:1', version: 'latest' },
    {
      path: '/allocation_candidates?resources=VCPU:1',
      version: LATEST,
      method: 'POST',
      body: '{}',
    },
    {
      path: '/allocation_candidates?resources=VCPU:1',
      version: LATEST,
      headers: { accept: 'text/html' },
    },
    { path: '/allocation_candidates?resources=VCPU:1', version: LATEST, noToken: true },
    { path: '/allocation_candidates/', version: LATEST },
  ];
}

/**
 * Every request the zoo test sends: core queries at `coreVersions` (all the
 * route's change points unless told), features around their versions,
 * errors (with `errors`).
 */
export function zooRequests(
  b: BuiltTopology,
  options: { coreVersions?: string[]; errors?: boolean } = {},
): CandidateCall[] {
  const calls: CandidateCall[] = [];
  for (const v of options.coreVersions ?? CANDIDATE_VERSIONS) {
    for (const q of coreQueries()) calls.push(candidates(q, v));
  }
  for (const [since, q] of featureQueries(b)) {
    const versions = new Set([before(since), since, LATEST]);
    if (Number(since.split('.')[1]) < 29) versions.add('1.29');
    for (const v of versions) calls.push(candidates(q, v));
  }
  if (options.errors ?? true) {
    for (const [v, q] of errorQueries(b)) calls.push(candidates(q, v));
    calls.push(...routeQueries());
  }
  return calls;
}

/** Resource classes a random query asks for, with amounts around the random trees' totals. */
const QUERY_CLASSES: [string, number][] = [
  ['VCPU', 8],
  ['MEMORY_MB', 4096],
  ['DISK_GB', 100],
  ['SRIOV_NET_VF', 4],
  ['FPGA', 2],
  ['VGPU', 2],
  ['CUSTOM_MAGIC', 2],
];

type Rnd = ReturnType<typeof prng>;

/** Resource classes some provider of the topology has (a query for others finds nothing). */
function classesIn(b: BuiltTopology): [string, number][] {
  const present = new Set(b.topology.providers.flatMap((p) => Object.keys(p.inventories ?? {})));
  const found = QUERY_CLASSES.filter(([rc]) => present.has(rc));
  return found.length > 0 ? found : QUERY_CLASSES;
}

function randomResources(rnd: Rnd, b: BuiltTopology, most: number): string {
  const n = rnd.int(1, most);
  const chosen = new Map<string, number>();
  const present = classesIn(b);
  while (chosen.size < Math.min(n, present.length)) {
    const [rc, top] = rnd.chance(0.9) ? rnd.pick(present) : rnd.pick(QUERY_CLASSES);
    // Small amounts mostly, so that many queries find something.
    chosen.set(rc, rnd.chance(0.8) ? 1 : rnd.int(1, top));
  }
  return [...chosen].map(([rc, a]) => `${rc}:${a}`).join(',');
}

function randomRequired(rnd: Rnd, minor: number): string | null {
  const traits = [...CUSTOM_TRAITS, ...RANDOM_STANDARD_TRAITS];
  const a = rnd.pick(traits);
  const b = rnd.pick(traits.filter((t) => t !== a));
  const forms: string[] = [a, `${a},${b}`];
  if (minor >= 22) forms.push(`!${a}`, `${a},!${b}`);
  if (minor >= 39) forms.push(`in:${a},${b}`);
  return rnd.pick(forms);
}

function randomMemberOf(rnd: Rnd, b: BuiltTopology, minor: number): string {
  const uuids = RANDOM_AGGREGATES.map((k) => b.aggregates[k] ?? UNKNOWN_UUID);
  const a = rnd.pick(uuids);
  const c = rnd.pick(uuids.filter((u) => u !== a));
  const forms = [a, `in:${a},${c}`];
  if (minor >= 32) forms.push(`!${a}`, `!in:${a},${c}`);
  return rnd.pick(forms);
}

/**
 * A random well-formed query against a random topology at a random
 * version ≥ 1.10: resources, then what the version allows — limit, traits
 * (forbidden, any-of, repeated), aggregates, numbered or named groups with
 * a policy, in_tree, root_required, same_subtree with resourceless groups.
 */
export function randomCandidateQuery(rnd: Rnd, b: BuiltTopology): CandidateCall {
  // Request groups (1.25+) are where the combinatorics live: two queries in three use them.
  const grouped = CANDIDATE_VERSIONS.filter((v) => Number(v.split('.')[1]) >= 25);
  const version = rnd.pick(rnd.chance(0.55) ? grouped : CANDIDATE_VERSIONS);
  const minor = Number(version.split('.')[1]);
  const parts: string[] = [];
  const add = (k: string, v: string) => parts.push(`${k}=${v}`);
  const providerUuids = Object.values(b.providers);
  const groups: string[] = [];
  const unsuffixed = minor < 25 || rnd.chance(0.6);
  // What sharing providers hold, asked for alone beside a group: where 8.0.0 keeps one anchor.
  const sharedOnly = unsuffixed && minor >= 25 && rnd.chance(0.3);
  if (unsuffixed) {
    add('resources', sharedOnly ? `DISK_GB:${rnd.int(1, 20)}` : randomResources(rnd, b, 3));
    if (minor >= 17 && rnd.chance(0.4)) add('required', randomRequired(rnd, minor)!);
    if (minor >= 39 && rnd.chance(0.2)) add('required', randomRequired(rnd, minor)!);
    if (minor >= 21 && rnd.chance(0.3)) add('member_of', randomMemberOf(rnd, b, minor));
    if (minor >= 24 && rnd.chance(0.1)) add('member_of', randomMemberOf(rnd, b, minor));
    if (minor >= 31 && rnd.chance(0.15)) add('in_tree', rnd.pick(providerUuids));
  }
  if (minor >= 25) {
    const count = sharedOnly ? rnd.int(1, 2) : unsuffixed ? rnd.int(0, 2) : rnd.int(1, 3);
    for (let i = 1; i <= count; i++) {
      const suffix = minor >= 33 && rnd.chance(0.5) ? `_G${i}` : String(i);
      groups.push(suffix);
      add(`resources${suffix}`, randomResources(rnd, b, 2));
      if (rnd.chance(0.3)) add(`required${suffix}`, randomRequired(rnd, minor)!);
      if (rnd.chance(0.2)) add(`member_of${suffix}`, randomMemberOf(rnd, b, minor));
      if (minor >= 31 && rnd.chance(0.1)) add(`in_tree${suffix}`, rnd.pick(providerUuids));
    }
    if (minor >= 36 && groups.length >= 1 && rnd.chance(0.4)) {
      // A resourceless group tying the others to a subtree rooted at a trait.
      const subtree = [...groups.filter(() => rnd.chance(0.7))];
      if (rnd.chance(0.5)) {
        add('required_ANCHOR', randomRequired(rnd, 38)!);
        subtree.push('_ANCHOR');
        groups.push('_ANCHOR');
      }
      if (subtree.length > 0) add('same_subtree', subtree.join(','));
      else if (groups.includes('_ANCHOR')) add('same_subtree', '_ANCHOR');
    }
    if (groups.length > 1 || rnd.chance(0.3)) add('group_policy', rnd.pick(['none', 'isolate']));
  }
  if (minor >= 35 && rnd.chance(0.15))
    add(
      'root_required',
      rnd.pick(['COMPUTE_NODE', '!CUSTOM_FOO', 'HW_NUMA_ROOT', `!${rnd.pick(CUSTOM_TRAITS)}`]),
    );
  if (minor >= 16 && rnd.chance(0.15)) add('limit', String(rnd.int(1, 4)));
  const call = candidates(parts.join('&'), version);
  // Only `none` gives comparable amounts when groups share a class (see amountsUndefinedIn800).
  if (amountsUndefinedIn800(call)) {
    return candidates(
      parts
        .filter((p) => !p.startsWith('group_policy='))
        .concat('group_policy=none')
        .join('&'),
      version,
    );
  }
  return call;
}
