/**
 * The read requests the differential tests send to both services: every
 * read route, with every filter and its malformed forms, for every object
 * of a generated cloud (or a deterministic sample of them), at each
 * microversion; plus placement's cross-cutting behaviour (negotiation,
 * 404/405, Accept, auth).
 */
import type { ApiCall } from './api-compare.js';
import type { CloudFacts } from './placement-cloud.js';

/** The microversions the differential tests must cover on every engine. */
export const REQUIRED_VERSIONS = ['1.0', '1.9', '1.14', '1.15', '1.23', '1.38', '1.39'];

/** Those, plus every version where read behaviour changes. */
export const DIFF_VERSIONS = [
  '1.0',
  '1.1',
  '1.3',
  '1.9',
  '1.14',
  '1.15',
  '1.18',
  '1.22',
  '1.23',
  '1.24',
  '1.28',
  '1.32',
  '1.38',
  '1.39',
];

const UNKNOWN = 'a2b0b2fc-9d8e-4e4c-9d7f-5f7e2c1d0b99';

function sample<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs;
  const step = xs.length / n;
  return Array.from({ length: n }, (_, i) => xs[Math.floor(i * step)]!);
}

/** GET /resource_providers with every filter, valid and not. */
function providerListQueries(f: CloudFacts): string[] {
  const [a1 = UNKNOWN, a2 = UNKNOWN, a3 = UNKNOWN] = f.aggregates;
  const named = f.providers[0]!;
  const nested = f.nestedRoots[0] ?? f.computeNodes[0]!;
  const child = f.providers.find((p) => p.name.includes('_NUMA'))?.uuid ?? nested;
  return [
    '',
    `?name=${encodeURIComponent(named.name)}`,
    `?name=${encodeURIComponent(named.name.toUpperCase())}`,
    `?name=${encodeURIComponent(f.providers.find((p) => /région/.test(p.name))?.name ?? 'x')}`,
    '?name=nope',
    '?name=',
    `?uuid=${named.uuid}`,
    `?uuid=${named.uuid.replace(/-/g, '')}`,
    '?uuid=not-a-uuid',
    `?uuid=${UNKNOWN}`,
    `?member_of=${a1}`,
    `?member_of=in:${a1},${a2}`,
    `?member_of=in:${a1},${UNKNOWN}`,
    `?member_of=${UNKNOWN}`,
    `?member_of=${a1},${a2}`,
    `?member_of=in:${a1},bogus`,
    `?member_of=${a1}&member_of=${a2}`,
    `?member_of=in:${a1},${a2}&member_of=${a3}`,
    `?member_of=!${a1}`,
    `?member_of=!in:${a1},${a2}`,
    `?member_of=${a1.toUpperCase()}`,
    '?resources=VCPU:4',
    '?resources=VCPU:4,MEMORY_MB:4096',
    '?resources=DISK_GB:20',
    '?resources=DISK_GB:25',
    '?resources=VCPU:1000',
    '?resources=CUSTOM_BAREMETAL_GOLD:1',
    '?resources=PCPU:2,MEMORY_MB:1024',
    '?resources=NOPE:1',
    '?resources=vcpu:1',
    '?resources=VCPU:0',
    '?resources=VCPU:x',
    '?resources=VCPU',
    '?resources=',
    '?resources=VCPU:1,VCPU:2',
    `?in_tree=${nested}`,
    `?in_tree=${child}`,
    `?in_tree=${UNKNOWN}`,
    '?in_tree=nope',
    `?in_tree=${UNKNOWN}&required=NOPE`,
    '?required=HW_NUMA_ROOT',
    '?required=COMPUTE_NODE,HW_CPU_X86_AVX2',
    '?required=COMPUTE_NODE&required=HW_CPU_X86_AVX2',
    '?required=!COMPUTE_STATUS_DISABLED',
    '?required=COMPUTE_NODE,!COMPUTE_STATUS_DISABLED',
    '?required=in:CUSTOM_PHYSNET_PUBLIC,CUSTOM_PHYSNET_TENANT',
    '?required=in:CUSTOM_PHYSNET_PUBLIC,!CUSTOM_GOLD',
    '?required=in:CUSTOM_GOLD,',
    '?required=NOPE',
    '?required=!NOPE',
    '?required=',
    '?required=COMPUTE_NODE,,HW_NUMA_ROOT',
    '?required=HW_CPU_X86_SSE2&resources=VCPU:2',
    `?member_of=${a1}&resources=MEMORY_MB:2048&required=COMPUTE_NODE`,
    `?member_of=${UNKNOWN}&resources=NOPE:1`,
    '?foo=1',
    '?uuid=x&foo=1',
  ];
}

/** Every read request for one microversion. */
export function readRequests(
  f: CloudFacts,
  version: string,
  options: { providers?: number; consumers?: number } = {},
): ApiCall[] {
  const calls: ApiCall[] = [];
  const get = (path: string, extra: Partial<ApiCall> = {}) =>
    calls.push({ path, version, ...extra });
  get('/');
  for (const q of providerListQueries(f)) get(`/resource_providers${q}`);
  const providers = sample(f.providers, options.providers ?? f.providers.length);
  for (const p of [...providers, { uuid: UNKNOWN }]) {
    const base = `/resource_providers/${p.uuid}`;
    for (const sub of [
      '',
      '/inventories',
      '/inventories/VCPU',
      '/inventories/DISK_GB',
      '/inventories/PCPU',
      '/usages',
      '/allocations',
      '/aggregates',
      '/traits',
    ]) {
      get(`${base}${sub}`);
    }
  }
  get('/resource_classes');
  for (const rc of ['VCPU', 'MEMORY_MB', 'CUSTOM_BAREMETAL_GOLD', 'CUSTOM_NOPE', 'vcpu'])
    get(`/resource_classes/${rc}`);
  for (const q of [
    '',
    '?name=in:COMPUTE_NODE,CUSTOM_GOLD,NOPE',
    '?name=startswith:CUSTOM_',
    '?name=startswith:hw_cpu',
    '?name=startswith:',
    '?name=in:',
    '?name=bad',
    '?name=other:x',
    '?associated=true',
    '?associated=false',
    '?associated=TRUE',
    '?associated=maybe',
    '?name=startswith:HW_&associated=true',
    '?name=startswith:CUSTOM_&associated=false',
    '?foo=bar',
  ]) {
    get(`/traits${q}`);
  }
  for (const t of ['COMPUTE_NODE', 'CUSTOM_GOLD', 'compute_node', 'CUSTOM_NOPE'])
    get(`/traits/${t}`);
  const consumers = sample(f.consumers, options.consumers ?? f.consumers.length);
  for (const c of [...consumers, ...f.orphanConsumers, UNKNOWN]) get(`/allocations/${c}`);
  for (const p of f.projects) {
    get(`/usages?project_id=${p}`);
    for (const t of ['INSTANCE', 'MIGRATION', 'all', 'unknown'])
      get(`/usages?project_id=${p}&consumer_type=${t}`);
  }
  const [p0 = 'p', p1 = 'p'] = f.projects;
  for (const u of f.users.slice(0, 3)) {
    get(`/usages?project_id=${p0}&user_id=${u}`);
    get(`/usages?project_id=${p1}&user_id=${u}&consumer_type=INSTANCE`);
    get(`/usages?project_id=${p1}&user_id=${u}&consumer_type=all`);
  }
  for (const q of [
    '',
    '?project_id=',
    `?project_id=${p0}&consumer_type=instance`,
    `?project_id=${p0}&consumer_type=NOPE`,
    `?project_id=${p0}&user_id=`,
    `?project_id=${p0}&foo=1`,
    '?project_id=nobody',
    `?project_id=${'x'.repeat(256)}`,
  ]) {
    get(`/usages${q}`);
  }
  return calls;
}

/** Placement's cross-cutting behaviour: negotiation, routing errors, Accept, auth. */
export function crossCuttingRequests(f: CloudFacts): ApiCall[] {
  const rp = f.computeNodes[0]!;
  const calls: ApiCall[] = [];
  for (const version of [
    undefined,
    'latest',
    '1.15',
    '1.23',
    '1.39',
    '1.40',
    '2.0',
    '0.9',
    '1.a',
    '1',
    '1.2.3',
    '1.01',
    ' 1.5 ',
    'LATEST',
    '',
  ]) {
    calls.push({ path: '/resource_providers', version });
    calls.push({ path: '/', version });
  }
  for (const header of [
    'compute 2.1, placement 1.20',
    'placement 1.20, placement 1.9',
    'PLACEMENT 1.20',
    'placement',
    'compute 2.1',
  ]) {
    calls.push({ path: '/resource_providers', headers: { 'openstack-api-version': header } });
  }
  for (const version of ['1.0', '1.23']) {
    calls.push({ path: '/nothing', version });
    calls.push({ path: '/resource_providers/', version });
    calls.push({ path: `/resource_providers/${rp}/nothing`, version });
    calls.push({ path: '/usages', method: 'POST', version });
    calls.push({ path: '/resource_providers', method: 'PATCH', version });
    calls.push({ path: `/resource_providers/${rp}`, method: 'PATCH', version });
    calls.push({ path: '/traits', method: 'DELETE', version });
    calls.push({ path: '/', method: 'HEAD', version });
    calls.push({ path: '/resource_providers', method: 'HEAD', version });
    calls.push({ path: '/resource_providers', version, noToken: true });
    calls.push({
      path: '/resource_providers',
      version,
      noToken: true,
      headers: { accept: 'text/html' },
    });
    calls.push({ path: '/', version, noToken: true });
    calls.push({ path: '/resource_providers', version, headers: { 'x-auth-token': 'alice' } });
    calls.push({
      path: '/usages?project_id=p1',
      version: '1.9',
      headers: { 'x-auth-token': 'alice:p1', 'x-roles': 'reader' },
    });
    calls.push({
      path: '/usages?project_id=p2',
      version: '1.9',
      headers: { 'x-auth-token': 'alice:p1', 'x-roles': 'reader' },
    });
    calls.push({
      path: '/resource_providers',
      version,
      headers: { 'x-auth-token': 'bob', 'x-roles': 'reader', 'openstack-system-scope': 'all' },
    });
    for (const accept of [
      'text/html',
      'text/plain',
      'application/json',
      'application/*',
      'application/json;q=0',
      'text/html, application/json',
      'text/html;q=0.5, application/json',
      'image/png',
    ]) {
      calls.push({ path: '/resource_providers', version, headers: { accept } });
      calls.push({ path: '/nothing', version, headers: { accept } });
      calls.push({ path: `/resource_providers/${rp}/aggregates`, version, headers: { accept } });
      calls.push({ path: '/usages', version, headers: { accept } });
    }
  }
  calls.push({ path: '/resource_providers', version: '1.40', headers: { accept: 'text/html' } });
  calls.push({
    path: '/resource_providers',
    version: '1.0',
    headers: { 'content-type': 'application/json' },
  });
  calls.push({ path: `/resource_providers/${rp}%2Finventories`, version: '1.0' });
  calls.push({ path: `/resource_providers/${rp.toUpperCase()}`, version: '1.14' });
  calls.push({ path: '/traits/CUSTOM%5FGOLD', version: '1.15' });
  return calls;
}

/**
 * Values beyond what an engine stores and query strings that are not
 * UTF-8, on every route that reads them: placement answers these from its
 * own validation or finds nothing, except where its engine fails first
 * (the differential test knows those 500s).
 */
export function outOfRangeRequests(f: CloudFacts): ApiCall[] {
  const rp = f.computeNodes[0]!;
  const [project = 'p'] = f.projects;
  const [user = 'u'] = f.users;
  const calls: ApiCall[] = [];
  for (const version of ['1.17', '1.39']) {
    for (const amount of [
      '2147483647',
      '2147483648',
      '-2147483649',
      '9223372036854775807',
      '9223372036854775808',
      '99999999999999999999999',
      '-99999999999999999999999',
    ]) {
      calls.push({ path: `/resource_providers?resources=VCPU:${amount}`, version });
      calls.push({ path: `/resource_providers?resources=VCPU:1,DISK_GB:${amount}`, version });
    }
    for (const path of [
      '/resource_providers/%00abc',
      `/resource_providers/${rp}%00`,
      `/resource_providers/${rp}%00/inventories`,
      `/resource_providers/${rp}%00/inventories/VCPU`,
      `/resource_providers/${rp}%00/usages`,
      `/resource_providers/${rp}%00/allocations`,
      `/resource_providers/${rp}%00/aggregates`,
      `/resource_providers/${rp}%00/traits`,
      `/resource_providers/${rp}/inventories/VCPU%00`,
      '/resource_providers?name=a%00b',
      '/resource_providers?uuid=%00',
      '/resource_providers?in_tree=%00',
      '/resource_providers?member_of=%00',
      '/resource_providers?required=COMPUTE_NODE%00',
      '/resource_providers?resources=VCPU%00:1',
      '/resource_classes/VCPU%00',
      '/traits/COMPUTE_NODE%00',
      '/traits?name=in:COMPUTE_NODE,a%00',
      '/traits?name=startswith:COMPUTE%00',
      `/allocations/${f.consumers[0] ?? 'c'}%00`,
      '/allocations/%00',
      '/usages?project_id=%00',
      `/usages?project_id=${project}&user_id=%00`,
      `/usages?project_id=${project}&consumer_type=all%00`,
      `/usages?project_id=${project}&consumer_type=unknown%00`,
      // Not UTF-8: placement's validation turns the decode error into a 400.
      '/resource_providers?name=%FF',
      '/resource_providers?%C3=1',
      '/resource_providers?name=ok&name=%E2%82',
      '/resource_providers?name=%ED%A0%80',
      '/resource_providers?name=%F0%90%80',
      '/resource_providers?name=%C0%AF',
      '/traits?name=in:%C3%28',
      `/resource_providers/${rp}?x=%FF`,
      `/usages?project_id=%FF`,
      `/usages?project_id=${project}&user_id=${user}%F8`,
      // WebOb's query syntax: `;` separates too; names are only names.
      '/resource_providers?name=x;foo=1',
      '/resource_providers?constructor=1',
      '/resource_providers?__proto__=1',
      '/traits?toString=x',
      // A non-ASCII path is bytes, one character each (PATH_INFO is latin-1).
      '/resource_providers/%F0%9F%98%80',
      '/resource_classes/CUSTOM_%C3%89',
      '/traits/CUSTOM_%FF',
    ]) {
      calls.push({ path, version });
    }
  }
  return calls;
}
