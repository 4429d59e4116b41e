/**
 * The write routes of resource providers, traits, aggregates and resource
 * classes, side by side with the real placement 8.0.0: the same request
 * sequences on two fresh databases of one engine, every answer compared
 * (status, placement's headers, Location, body). Then several of our
 * servers on one database racing for the same writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { call, differences, type Exchange } from '../helpers/api-compare.js';
import {
  realPlacementServiceForTests,
  startOurApi,
  startRealPlacement,
  type RunningService,
} from '../helpers/api-services.js';
import { runCli } from '../helpers/cli.js';
import type { Database } from '../../src/db/connect.js';
import {
  createTestDatabase,
  testEngines,
  withOpen,
  type TestDatabase,
} from '../helpers/databases.js';

const available = realPlacementServiceForTests();

/** One request of a sequence. */
interface Step {
  method: string;
  path: string;
  version?: string;
  /** JSON-encoded unless a string. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Sends a request with its body, as admin. */
function send(base: string, step: Step): Promise<Exchange> {
  const body =
    step.body === undefined || typeof step.body === 'string'
      ? step.body
      : JSON.stringify(step.body);
  return call(base, { ...step, body });
}

/** An exchange with the server's own address and any UUID it generated made neutral. */
function neutral(ex: Exchange, base: string, generated: string[]): Exchange {
  const host = new URL(base).host;
  let body = ex.body;
  const headers = { ...ex.headers };
  if (headers['location']) headers['location'] = headers['location'].replace(host, 'HOST');
  for (const [i, uuid] of generated.entries()) {
    body = body.split(uuid).join(`GENERATED-${i}`);
    if (headers['location'])
      headers['location'] = headers['location'].split(uuid).join(`GENERATED-${i}`);
  }
  return { ...ex, headers, body };
}

const UUID_IN_LOCATION = /\/resource_providers\/([0-9a-f-]{36})$/;

/** Runs the steps on both services in order; returns every difference. */
async function compareSequence(ours: string, theirs: string, steps: Step[]): Promise<string[]> {
  const found: string[] = [];
  const generatedOurs: string[] = [];
  const generatedTheirs: string[] = [];
  for (const step of steps) {
    const [a, b] = [await send(ours, step), await send(theirs, step)];
    // A provider created without a UUID gets a new one on each side.
    const bodyUuid = (s: Step) =>
      s.method === 'POST' && s.path === '/resource_providers' && typeof s.body === 'object'
        ? (s.body as { uuid?: string }).uuid
        : 'n/a';
    if (bodyUuid(step) === undefined) {
      const ga = UUID_IN_LOCATION.exec(a.headers['location'] ?? '')?.[1];
      const gb = UUID_IN_LOCATION.exec(b.headers['location'] ?? '')?.[1];
      if (ga && gb) {
        generatedOurs.push(ga);
        generatedTheirs.push(gb);
      }
    }
    const na = neutral(a, ours, generatedOurs);
    const nb = neutral(b, theirs, generatedTheirs);
    const diffs = differences(na, nb);
    if (na.headers['location'] !== nb.headers['location']) {
      diffs.push(
        `location: ${na.headers['location'] ?? '(none)'} ≠ ${nb.headers['location'] ?? '(none)'}`,
      );
    }
    if (diffs.length > 0) {
      found.push(
        `${step.method} ${step.path} @${step.version ?? '-'} ${JSON.stringify(step.body ?? '')}\n  ${diffs.join('\n  ')}`,
      );
    }
  }
  return found;
}

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const C = 'cccccccc-0000-4000-8000-000000000003';
const D = 'dddddddd-0000-4000-8000-000000000004';
const E = 'eeeeeeee-0000-4000-8000-000000000005';
const MISSING = 'ffffffff-0000-4000-8000-000000000009';
const AGG1 = '11111111-aaaa-4000-8000-000000000001';
const AGG2 = '22222222-aaaa-4000-8000-000000000002';
const AGG3 = '33333333-aaaa-4000-8000-000000000003';

const rp = (uuid: string) => `/resource_providers/${uuid}`;
const get = (path: string, version?: string): Step => ({ method: 'GET', path, version });

/** Create, rename, re-parent and delete providers at the versions where the rules change. */
function providerSteps(): Step[] {
  return [
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.0',
      body: { name: 'rp-a', uuid: A },
    },
    // Upper-case: stored and answered in the canonical form.
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.20',
      body: { name: 'rp-b', uuid: B.toUpperCase() },
    },
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.14',
      body: { name: 'rp-c', uuid: C, parent_provider_uuid: A },
    },
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.20',
      body: { name: 'rp-d', uuid: D, parent_provider_uuid: C },
    },
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.20',
      body: { name: 'rp-generated' },
    },
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.19',
      body: { name: 'rp-generated-too' },
    },
    // Duplicates, with and without the error code.
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.0',
      body: { name: 'rp-x', uuid: A },
    },
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.23',
      body: { name: 'rp-a', uuid: E },
    },
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.39',
      body: { name: 'rp-b', uuid: B },
    },
    // Parents that cannot be.
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.14',
      body: { name: 'rp-e', uuid: E, parent_provider_uuid: MISSING },
    },
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.23',
      body: { name: 'rp-e', uuid: E, parent_provider_uuid: E },
    },
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.14',
      body: { name: 'rp-e', uuid: E, parent_provider_uuid: null },
    },
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.20',
      body: { name: '', uuid: MISSING },
    },
    get('/resource_providers', '1.14'),
    get(rp(D), '1.15'),
    // Rename; last-modified is the updated_at the provider had before.
    { method: 'PUT', path: rp(A), version: '1.0', body: { name: 'rp-a2' } },
    { method: 'PUT', path: rp(A), version: '1.15', body: { name: 'rp-a2' } },
    { method: 'PUT', path: rp(D), version: '1.15', body: { name: 'rp-d' } },
    { method: 'PUT', path: rp(D), version: '1.15', body: { name: 'rp-d2' } },
    { method: 'PUT', path: rp(A), version: '1.23', body: { name: 'rp-b' } },
    { method: 'PUT', path: rp(MISSING), version: '1.14', body: { name: 'nobody' } },
    // Before 1.37 a parent stays; loops never.
    {
      method: 'PUT',
      path: rp(C),
      version: '1.14',
      body: { name: 'rp-c', parent_provider_uuid: B },
    },
    {
      method: 'PUT',
      path: rp(C),
      version: '1.36',
      body: { name: 'rp-c', parent_provider_uuid: null },
    },
    {
      method: 'PUT',
      path: rp(C),
      version: '1.36',
      body: { name: 'rp-c', parent_provider_uuid: A },
    },
    { method: 'PUT', path: rp(C), version: '1.36', body: { name: 'rp-c3' } },
    {
      method: 'PUT',
      path: rp(A),
      version: '1.14',
      body: { name: 'rp-a2', parent_provider_uuid: D },
    },
    {
      method: 'PUT',
      path: rp(A),
      version: '1.37',
      body: { name: 'rp-a2', parent_provider_uuid: A },
    },
    {
      method: 'PUT',
      path: rp(C),
      version: '1.14',
      body: { name: 'rp-c', parent_provider_uuid: MISSING },
    },
    // 1.37: to another tree, and to the root; the subtree follows.
    {
      method: 'PUT',
      path: rp(C),
      version: '1.37',
      body: { name: 'rp-c', parent_provider_uuid: B },
    },
    get(rp(D), '1.14'),
    get(`/resource_providers?in_tree=${B}`, '1.14'),
    {
      method: 'PUT',
      path: rp(C),
      version: '1.37',
      body: { name: 'rp-c', parent_provider_uuid: null },
    },
    get(rp(D), '1.14'),
    get(`/resource_providers?in_tree=${A}`, '1.14'),
    // Within its own tree; and by a UUID in capitals (MySQL finds it, the others do not).
    {
      method: 'PUT',
      path: rp(D),
      version: '1.37',
      body: { name: 'rp-d2', parent_provider_uuid: B },
    },
    get(rp(D), '1.37'),
    {
      method: 'PUT',
      path: rp(D),
      version: '1.37',
      body: { name: 'rp-d2', parent_provider_uuid: C },
    },
    {
      method: 'PUT',
      path: rp(C.toUpperCase()),
      version: '1.37',
      body: { name: 'rp-c', parent_provider_uuid: D },
    },
    { method: 'PUT', path: rp(C.toUpperCase()), version: '1.37', body: { name: 'rp-c' } },
    { method: 'DELETE', path: rp(C.toUpperCase()), version: '1.37' },
    get(rp(C.toUpperCase()), '1.37'),
    // A root may get a parent before 1.37.
    {
      method: 'PUT',
      path: rp(B),
      version: '1.14',
      body: { name: 'rp-b', parent_provider_uuid: A },
    },
    get(rp(B), '1.14'),
    // Delete: not a parent, then gone.
    { method: 'DELETE', path: rp(C), version: '1.23' },
    { method: 'DELETE', path: rp(C), version: '1.0' },
    { method: 'DELETE', path: rp(D) },
    { method: 'DELETE', path: rp(D) },
    get(rp(D)),
    { method: 'DELETE', path: rp(MISSING), version: '1.23' },
    get('/resource_providers', '1.39'),
  ];
}

/** Custom traits, a provider's traits and their generation. */
function traitSteps(): Step[] {
  const t = (name: string) => `/traits/${name}`;
  return [
    { method: 'POST', path: '/resource_providers', body: { name: 'trait-rp', uuid: E } },
    { method: 'PUT', path: t('CUSTOM_GOLD'), version: '1.6' },
    { method: 'PUT', path: t('CUSTOM_GOLD'), version: '1.6' },
    { method: 'PUT', path: t('CUSTOM_GOLD'), version: '1.15' },
    { method: 'PUT', path: t('CUSTOM_SILVER'), version: '1.15' },
    { method: 'PUT', path: t('CUSTOM_GOLD'), version: '1.5' },
    { method: 'PUT', path: t('HW_CPU_X86_AVX'), version: '1.6' },
    { method: 'PUT', path: t('CUSTOM_lower'), version: '1.6' },
    { method: 'PUT', path: t('GOLD'), version: '1.23' },
    get('/traits?name=startswith:CUSTOM_', '1.6'),
    get(t('CUSTOM_GOLD'), '1.15'),
    {
      method: 'PUT',
      path: `${rp(E)}/traits`,
      version: '1.6',
      body: { traits: ['CUSTOM_GOLD', 'HW_CPU_X86_AVX'], resource_provider_generation: 0 },
    },
    // The same set again: no change, the generation stays.
    {
      method: 'PUT',
      path: `${rp(E)}/traits`,
      version: '1.15',
      body: { traits: ['HW_CPU_X86_AVX', 'CUSTOM_GOLD'], resource_provider_generation: 1 },
    },
    {
      method: 'PUT',
      path: `${rp(E)}/traits`,
      version: '1.23',
      body: { traits: ['CUSTOM_GOLD'], resource_provider_generation: 0 },
    },
    {
      method: 'PUT',
      path: `${rp(E)}/traits`,
      version: '1.23',
      body: { traits: ['CUSTOM_GOLD', 'CUSTOM_NOPE'], resource_provider_generation: 1 },
    },
    {
      method: 'PUT',
      path: `${rp(MISSING)}/traits`,
      version: '1.6',
      body: { traits: [], resource_provider_generation: 0 },
    },
    {
      method: 'PUT',
      path: `${rp(E)}/traits`,
      version: '1.6',
      body: { traits: ['CUSTOM_SILVER', 'CUSTOM_GOLD'], resource_provider_generation: 1 },
    },
    get(`${rp(E)}/traits`, '1.6'),
    get(`/traits?associated=true`, '1.6'),
    // In use, standard, missing.
    { method: 'DELETE', path: t('CUSTOM_GOLD'), version: '1.6' },
    { method: 'DELETE', path: t('HW_CPU_X86_AVX'), version: '1.6' },
    { method: 'DELETE', path: t('CUSTOM_NOPE'), version: '1.6' },
    { method: 'DELETE', path: `${rp(MISSING)}/traits`, version: '1.6' },
    { method: 'DELETE', path: `${rp(E)}/traits`, version: '1.6' },
    get(`${rp(E)}/traits`, '1.6'),
    // Nothing left to remove: the generation stays.
    { method: 'DELETE', path: `${rp(E)}/traits`, version: '1.6' },
    get(rp(E), '1.6'),
    { method: 'DELETE', path: t('CUSTOM_GOLD'), version: '1.6' },
    { method: 'DELETE', path: t('CUSTOM_GOLD'), version: '1.6' },
    // Deleting a provider takes its traits and aggregates with it.
    {
      method: 'PUT',
      path: `${rp(E)}/traits`,
      version: '1.6',
      body: { traits: ['CUSTOM_SILVER'], resource_provider_generation: 3 },
    },
    {
      method: 'PUT',
      path: `${rp(E)}/aggregates`,
      version: '1.1',
      body: [AGG1],
    },
    { method: 'DELETE', path: rp(E) },
    get(`/traits?associated=true`, '1.6'),
    get(`/resource_providers?member_of=${AGG1}`, '1.3'),
    { method: 'DELETE', path: t('CUSTOM_SILVER'), version: '1.6' },
  ];
}

/** Aggregates as a list before 1.19, with the generation from then on. */
function aggregateSteps(): Step[] {
  const agg = (uuid: string) => `${rp(uuid)}/aggregates`;
  return [
    { method: 'POST', path: '/resource_providers', body: { name: 'agg-rp', uuid: E } },
    { method: 'POST', path: '/resource_providers', body: { name: 'agg-rp-2', uuid: D } },
    { method: 'PUT', path: agg(E), version: '1.1', body: [AGG1, AGG2] },
    get(agg(E), '1.1'),
    { method: 'PUT', path: agg(E), version: '1.18', body: [AGG2] },
    get(agg(E), '1.19'),
    {
      method: 'PUT',
      path: agg(E),
      version: '1.19',
      body: { aggregates: [AGG3, AGG1], resource_provider_generation: 0 },
    },
    // Unchanged, still bumped.
    {
      method: 'PUT',
      path: agg(E),
      version: '1.19',
      body: { aggregates: [AGG3, AGG1], resource_provider_generation: 1 },
    },
    {
      method: 'PUT',
      path: agg(E),
      version: '1.23',
      body: { aggregates: [], resource_provider_generation: 0 },
    },
    {
      method: 'PUT',
      path: agg(D),
      version: '1.19',
      body: { aggregates: [AGG1], resource_provider_generation: 0 },
    },
    get(`/resource_providers?member_of=in:${AGG1},${AGG3}`, '1.3'),
    {
      method: 'PUT',
      path: agg(MISSING),
      version: '1.19',
      body: { aggregates: [], resource_provider_generation: 0 },
    },
    { method: 'PUT', path: agg(E), version: '1.0', body: [AGG1] },
    {
      method: 'PUT',
      path: agg(E),
      version: '1.39',
      body: { aggregates: [], resource_provider_generation: 2 },
    },
    get(agg(E), '1.39'),
    { method: 'DELETE', path: rp(E) },
    { method: 'DELETE', path: rp(D) },
  ];
}

/** Custom resource classes: create, rename (1.2–1.6), create-or-verify (1.7), delete. */
function classSteps(): Step[] {
  const rc = (name: string) => `/resource_classes/${name}`;
  return [
    { method: 'POST', path: '/resource_classes', version: '1.2', body: { name: 'CUSTOM_FPGA' } },
    { method: 'POST', path: '/resource_classes', version: '1.2', body: { name: 'CUSTOM_FPGA' } },
    { method: 'POST', path: '/resource_classes', version: '1.23', body: { name: 'CUSTOM_GPU' } },
    { method: 'POST', path: '/resource_classes', version: '1.1', body: { name: 'CUSTOM_OLD' } },
    get(rc('CUSTOM_FPGA'), '1.2'),
    { method: 'PUT', path: rc('CUSTOM_FPGA'), version: '1.2', body: { name: 'CUSTOM_FPGA2' } },
    { method: 'PUT', path: rc('CUSTOM_FPGA2'), version: '1.6', body: { name: 'CUSTOM_FPGA2' } },
    { method: 'PUT', path: rc('CUSTOM_FPGA2'), version: '1.6', body: { name: 'CUSTOM_GPU' } },
    { method: 'PUT', path: rc('VCPU'), version: '1.6', body: { name: 'CUSTOM_VCPU' } },
    { method: 'PUT', path: rc('CUSTOM_NONE'), version: '1.6', body: { name: 'CUSTOM_NONE2' } },
    {
      method: 'PUT',
      path: rc('CUSTOM_FPGA2'),
      version: '1.6',
      body: '{"name": "CUSTOM_X"}',
      headers: { 'content-type': 'text/plain' },
    },
    get(rc('CUSTOM_FPGA'), '1.6'),
    { method: 'PUT', path: rc('CUSTOM_NIC'), version: '1.7' },
    { method: 'PUT', path: rc('CUSTOM_NIC'), version: '1.7' },
    { method: 'PUT', path: rc('CUSTOM_FPGA2'), version: '1.7' },
    {
      method: 'PUT',
      path: rc('CUSTOM_NIC2'),
      version: '1.30',
      headers: { 'content-type': 'text/plain' },
    },
    get('/resource_classes', '1.7'),
    get(rc('CUSTOM_NIC'), '1.15'),
    { method: 'DELETE', path: rc('VCPU'), version: '1.2' },
    { method: 'DELETE', path: rc('CUSTOM_NONE'), version: '1.2' },
    { method: 'DELETE', path: rc('CUSTOM_FPGA2'), version: '1.1' },
    { method: 'DELETE', path: rc('CUSTOM_FPGA2'), version: '1.2' },
    { method: 'DELETE', path: rc('CUSTOM_FPGA2'), version: '1.2' },
    get('/resource_classes', '1.2'),
  ];
}

/** Bodies and names placement's schemas refuse, and what they let through. */
function validationSteps(): Step[] {
  const long = 'x'.repeat(201);
  return [
    { method: 'POST', path: '/resource_providers', body: {} },
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.23',
      body: { name: 'v', uuid: 'not-a-uuid' },
    },
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.13',
      body: { name: 'v', parent_provider_uuid: A },
    },
    { method: 'POST', path: '/resource_providers', body: { name: long } },
    { method: 'POST', path: '/resource_providers', body: '{"name": "v",' },
    {
      method: 'POST',
      path: '/resource_providers',
      version: '1.14',
      body: { name: 'v', parent_provider_uuid: 7 },
    },
    // Without dashes: a UUID all the same, stored in the canonical form.
    { method: 'POST', path: '/resource_providers', body: { name: 'v', uuid: A.replace(/-/g, '') } },
    { method: 'POST', path: '/resource_providers', body: { name: 'v2', uuid: A } },
    { method: 'PUT', path: rp(A), version: '1.14', body: { name: 'v', uuid: A } },
    { method: 'PUT', path: rp(A), body: {} },
    { method: 'PUT', path: rp(A), body: { name: long } },
    { method: 'PUT', path: rp(MISSING), body: {} },
    { method: 'PUT', path: `${rp(A)}/traits`, version: '1.6', body: { traits: [] } },
    {
      method: 'PUT',
      path: `${rp(A)}/traits`,
      version: '1.6',
      body: { traits: [], resource_provider_generation: 'a' },
    },
    {
      method: 'PUT',
      path: `${rp(A)}/traits`,
      version: '1.6',
      body: { traits: 'CUSTOM_X', resource_provider_generation: 0 },
    },
    {
      method: 'PUT',
      path: `${rp(A)}/traits`,
      version: '1.6',
      body: { traits: [''], resource_provider_generation: 0 },
    },
    {
      method: 'PUT',
      path: `${rp(A)}/traits`,
      version: '1.6',
      body: { traits: [], resource_provider_generation: 0, x: 1 },
    },
    { method: 'PUT', path: `${rp(MISSING)}/traits`, version: '1.6', body: { traits: [] } },
    { method: 'PUT', path: `${rp(A)}/aggregates`, version: '1.19', body: [AGG1] },
    {
      method: 'PUT',
      path: `${rp(A)}/aggregates`,
      version: '1.18',
      body: { aggregates: [AGG1], resource_provider_generation: 0 },
    },
    { method: 'PUT', path: `${rp(A)}/aggregates`, version: '1.1', body: [AGG1, AGG1] },
    { method: 'PUT', path: `${rp(A)}/aggregates`, version: '1.1', body: ['not-a-uuid'] },
    { method: 'PUT', path: `${rp(A)}/aggregates`, version: '1.19', body: { aggregates: [AGG1] } },
    { method: 'PUT', path: `${rp(MISSING)}/aggregates`, version: '1.19', body: [AGG1] },
    { method: 'POST', path: '/resource_classes', version: '1.2', body: { name: 'VCPU' } },
    { method: 'POST', path: '/resource_classes', version: '1.2', body: { name: 'CUSTOM_lower' } },
    {
      method: 'POST',
      path: '/resource_classes',
      version: '1.2',
      body: { name: `CUSTOM_${'X'.repeat(249)}` },
    },
    { method: 'POST', path: '/resource_classes', version: '1.2', body: { name: 'CUSTOM_Y', x: 1 } },
    { method: 'PUT', path: '/resource_classes/VCPU', version: '1.7' },
    { method: 'PUT', path: '/resource_classes/CUSTOM_%22', version: '1.7' },
    { method: 'PUT', path: `/resource_classes/CUSTOM_${'X'.repeat(249)}`, version: '1.7' },
    { method: 'PUT', path: '/resource_classes/VCPU', version: '1.6', body: { name: 'vcpu' } },
    { method: 'PUT', path: '/traits/CUSTOM_%0A', version: '1.6' },
    // Python's $ matches before a final newline: placement creates this trait.
    { method: 'PUT', path: '/traits/CUSTOM_NL%0A', version: '1.6' },
    get('/traits?name=startswith:CUSTOM_NL', '1.6'),
    { method: 'PUT', path: '/resource_classes/CUSTOM_NL%0A', version: '1.7' },
    { method: 'PUT', path: `/traits/CUSTOM_${'X'.repeat(249)}`, version: '1.6' },
  ];
}

/** Gives a provider an inventory of VCPU and of `customClass`, and an allocation of VCPU, as placement stores them. */
async function addUsage(db: Database, uuid: string, customClass: string): Promise<void> {
  const [provider] = (await db.knex('resource_providers').where({ uuid }).select('id')) as {
    id: number;
  }[];
  const [custom] = (await db
    .knex('resource_classes')
    .where({ name: customClass })
    .select('id')) as { id: number }[];
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const inventory = (classId: number) => ({
    resource_provider_id: provider!.id,
    resource_class_id: classId,
    total: 8,
    reserved: 0,
    min_unit: 1,
    max_unit: 8,
    step_size: 1,
    allocation_ratio: 1.0,
    created_at: now,
  });
  await db.knex('inventories').insert([inventory(0), inventory(Number(custom!.id))]);
  await db.knex('allocations').insert({
    resource_provider_id: provider!.id,
    consumer_id: 'c0c0c0c0-0000-4000-8000-000000000000',
    resource_class_id: 0,
    used: 2,
    created_at: now,
  });
}

async function syncSchema(database: TestDatabase): Promise<void> {
  const result = await runCli(['db', 'sync', '--placement-url', database.url]);
  if (result.code !== 0) throw new Error(`db sync failed: ${result.stderr}`);
}

describe.runIf(available).each(testEngines())(
  'write routes of providers, traits, aggregates and classes on %s',
  (engine) => {
    let oursDb: TestDatabase;
    let theirsDb: TestDatabase;
    let ours: RunningService;
    let theirs: RunningService;

    beforeAll(async () => {
      [oursDb, theirsDb] = await Promise.all([
        createTestDatabase(engine, 'api_write_rp_ours'),
        createTestDatabase(engine, 'api_write_rp_theirs'),
      ]);
      await syncSchema(oursDb);
      await syncSchema(theirsDb);
      theirs = await startRealPlacement(theirsDb.url);
      ours = await startOurApi(oursDb.url, []);
    }, 240_000);

    afterAll(async () => {
      await Promise.allSettled([ours?.stop(), theirs?.stop()]);
      await Promise.allSettled([oursDb?.drop(), theirsDb?.drop()]);
    });

    const sequences: [string, () => Step[]][] = [
      ['providers: create, rename, re-parent, delete', providerSteps],
      ['traits: custom traits and a provider’s set', traitSteps],
      ['aggregates: list form and generation form', aggregateSteps],
      ['resource classes: create, rename, create-or-verify, delete', classSteps],
      ['bodies and names the schemas refuse', validationSteps],
    ];
    it.each(sequences)('%s', async (_, steps) => {
      const found = await compareSequence(ours.url, theirs.url, steps());
      expect(found.slice(0, 10).join('\n\n'), `${found.length} steps differ`).toBe('');
    });

    // Inventories and allocations are written as placement's tables hold them (their routes are not this file's).
    it('a provider or class in use is refused; a deleted provider takes its inventories', async () => {
      const X = '99999999-0000-4000-8000-00000000000a';
      const found = await compareSequence(ours.url, theirs.url, [
        { method: 'POST', path: '/resource_providers', body: { name: 'in-use', uuid: X } },
        {
          method: 'POST',
          path: '/resource_classes',
          version: '1.2',
          body: { name: 'CUSTOM_IN_USE' },
        },
      ]);
      const both = [oursDb, theirsDb];
      await Promise.all(both.map((d) => withOpen(d, (db) => addUsage(db, X, 'CUSTOM_IN_USE'))));
      found.push(
        ...(await compareSequence(ours.url, theirs.url, [
          get(`${rp(X)}/inventories`, '1.0'),
          { method: 'DELETE', path: '/resource_classes/CUSTOM_IN_USE', version: '1.2' },
          { method: 'DELETE', path: rp(X), version: '1.0' },
          { method: 'DELETE', path: rp(X), version: '1.23' },
        ])),
      );
      await Promise.all(both.map((d) => withOpen(d, (db) => db.knex('allocations').del())));
      found.push(
        ...(await compareSequence(ours.url, theirs.url, [
          { method: 'DELETE', path: rp(X), version: '1.23' },
          get(rp(X)),
          { method: 'DELETE', path: '/resource_classes/CUSTOM_IN_USE', version: '1.2' },
        ])),
      );
      expect(found.join('\n\n')).toBe('');
      for (const d of both) {
        const rows = await withOpen(d, (db) => db.knex('inventories').select('id'));
        expect(rows, d.name).toEqual([]);
      }
    });
  },
);

/**
 * Waits (bounded) until another session's statement on this database is
 * blocked: nothing else runs here, so a statement still running is the
 * request under test waiting for a row lock.
 */
async function untilSomeoneWaitsForALock(db: Database, engine: string): Promise<void> {
  const sql =
    engine === 'mysql'
      ? "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE db = DATABASE() AND command = 'Query' AND id <> CONNECTION_ID()"
      : 'SELECT COUNT(*) AS n FROM pg_locks WHERE NOT granted';
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const [row] = db.dialect.rows<{ n: number | string }>(await db.knex.raw(sql));
    if (Number(row?.n ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends `count` copies of one request, spread over the servers, all at once. */
async function race(servers: RunningService[], step: Step, count: number): Promise<Exchange[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => send(servers[i % servers.length]!.url, step)),
  );
}

const statuses = (answers: Exchange[]) => answers.map((a) => a.status).sort();

describeEach(testEngines())('several of our servers writing at once on %s', (engine) => {
  let database: TestDatabase;
  let servers: RunningService[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(engine, 'api_write_rp_race');
    await syncSchema(database);
    servers = await Promise.all([startOurApi(database.url, []), startOurApi(database.url, [])]);
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await database?.drop();
  });

  it('one creates a custom trait, the others find it', async () => {
    const answers = await race(
      servers,
      { method: 'PUT', path: '/traits/CUSTOM_RACE', version: '1.15' },
      8,
    );
    expect(statuses(answers)).toEqual([201, 204, 204, 204, 204, 204, 204, 204]);
  });

  it('one creates a resource class by PUT, the others find it', async () => {
    const answers = await race(
      servers,
      { method: 'PUT', path: '/resource_classes/CUSTOM_RACE', version: '1.7' },
      8,
    );
    expect(statuses(answers)).toEqual([201, 204, 204, 204, 204, 204, 204, 204]);
  });

  it('classes created at once all get their own id', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        send(servers[i % 2]!.url, {
          method: 'POST',
          path: '/resource_classes',
          version: '1.2',
          body: { name: `CUSTOM_MANY_${i}` },
        }),
      ),
    );
    expect(statuses(answers)).toEqual(Array(8).fill(201));
    const list = JSON.parse(
      (await send(servers[0]!.url, get('/resource_classes', '1.2'))).body,
    ) as {
      resource_classes: { name: string }[];
    };
    const names = list.resource_classes
      .map((r) => r.name)
      .filter((n) => n.startsWith('CUSTOM_MANY_'));
    expect(names.sort()).toEqual(Array.from({ length: 8 }, (_, i) => `CUSTOM_MANY_${i}`).sort());
  });

  it('one provider of a name; the others 409', async () => {
    const answers = await race(
      servers,
      { method: 'POST', path: '/resource_providers', version: '1.20', body: { name: 'race-rp' } },
      6,
    );
    expect(statuses(answers)).toEqual([200, 409, 409, 409, 409, 409]);
    const conflict = answers.find((a) => a.status === 409)!;
    expect(conflict.body).toContain('Conflicting resource provider name: race-rp already exists.');
  });

  it('with one generation, one aggregate change wins and the others 409', async () => {
    const created = await send(servers[0]!.url, {
      method: 'POST',
      path: '/resource_providers',
      version: '1.20',
      body: { name: 'race-agg', uuid: A },
    });
    expect(created.status).toBe(200);
    const answers = await race(
      servers,
      {
        method: 'PUT',
        path: `${rp(A)}/aggregates`,
        version: '1.19',
        body: { aggregates: [AGG1, AGG2], resource_provider_generation: 0 },
      },
      6,
    );
    expect(statuses(answers)).toEqual([200, 409, 409, 409, 409, 409]);
    const after = JSON.parse(
      (await send(servers[1]!.url, get(`${rp(A)}/aggregates`, '1.19'))).body,
    );
    expect(after).toEqual({
      aggregates: expect.arrayContaining([AGG1, AGG2]),
      resource_provider_generation: 1,
    });
  });

  it('aggregates new to the database, set on many providers at once, exist once', async () => {
    const uuids = [B, C, D, E];
    for (const [i, uuid] of uuids.entries()) {
      const r = await send(servers[0]!.url, {
        method: 'POST',
        path: '/resource_providers',
        body: { name: `race-many-${i}`, uuid },
      });
      expect(r.status).toBe(201);
    }
    const answers = await Promise.all(
      uuids.map((uuid, i) =>
        send(servers[i % 2]!.url, {
          method: 'PUT',
          path: `${rp(uuid)}/aggregates`,
          version: '1.1',
          body: [AGG3],
        }),
      ),
    );
    expect(statuses(answers)).toEqual([200, 200, 200, 200]);
    const members = JSON.parse(
      (await send(servers[0]!.url, get(`/resource_providers?member_of=${AGG3}`, '1.3'))).body,
    ) as {
      resource_providers: { uuid: string }[];
    };
    expect(members.resource_providers.map((p) => p.uuid).sort()).toEqual([...uuids].sort());
  });

  it('with one generation, one trait change wins and the others 409', async () => {
    const answers = await race(
      servers,
      {
        method: 'PUT',
        path: `${rp(B)}/traits`,
        version: '1.6',
        body: { traits: ['CUSTOM_RACE'], resource_provider_generation: 0 },
      },
      6,
    );
    expect(statuses(answers)).toEqual([200, 409, 409, 409, 409, 409]);
  });
  // An allocation writer bumps the provider's generation in its transaction, as placement's does.
  it.runIf(engine !== 'sqlite')(
    'a delete waits for an allocation being written, then refuses',
    async () => {
      const F = 'f1f1f1f1-0000-4000-8000-0000000000f1';
      const created = await send(servers[0]!.url, {
        method: 'POST',
        path: '/resource_providers',
        body: { name: 'race-delete', uuid: F },
      });
      expect(created.status).toBe(201);
      const db = await database.open();
      try {
        const trx = await db.knex.transaction();
        const [p] = (await trx('resource_providers')
          .where({ uuid: F })
          .select('id', 'generation')) as {
          id: number;
          generation: number;
        }[];
        await trx('resource_providers')
          .where({ id: p!.id, generation: p!.generation })
          .update({ generation: p!.generation + 1 });
        await trx('allocations').insert({
          resource_provider_id: p!.id,
          consumer_id: 'c1c1c1c1-0000-4000-8000-000000000000',
          resource_class_id: 0,
          used: 1,
        });
        const pending = send(servers[1]!.url, { method: 'DELETE', path: rp(F), version: '1.23' });
        await untilSomeoneWaitsForALock(db, engine);
        await trx.commit();
        const answer = await pending;
        expect(answer.status, answer.body).toBe(409);
        expect(answer.body).toContain('Resource provider has allocations.');
      } finally {
        await db.close();
      }
    },
  );
});
