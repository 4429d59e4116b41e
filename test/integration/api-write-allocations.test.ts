/**
 * The allocation write routes (PUT, DELETE /allocations/{consumer_uuid},
 * POST /allocations) and POST /reshaper of `api serve` against placement
 * 8.0.0: the same request sequences sent to the real placement on one
 * fresh database and to ours on an identical other one, every answer
 * compared (status, placement's headers, body), then the providers,
 * inventories, allocations, consumers, projects, users and consumer types
 * both left behind. Includes nova's reshape of a flat compute node whose
 * VGPUs move to child providers, allocations and all.
 *
 * Then what placement promises under concurrency: two of our servers on
 * one database, many claims racing for the last units of a provider: never
 * more allocated than the capacity, and 409s (capacity or concurrent
 * update) for the rest.
 *
 * Providers (and one custom resource class) are seeded with SQL,
 * identically on both sides; inventories go through the inventory routes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import type { Database } from '../../src/db/connect.js';
import { utcTimestamp } from '../../src/db/timestamps.js';
import { syncSchema } from '../../src/schema/migrator.js';
import { call, differences, type Exchange } from '../helpers/api-compare.js';
import {
  realPlacementServiceForTests,
  startOurApi,
  startRealPlacement,
  type RunningService,
} from '../helpers/api-services.js';
import { freshDatabases, testEngines, type TestDatabase } from '../helpers/databases.js';
import { sqlalchemyUrl } from '../helpers/real-placement.js';

const available = realPlacementServiceForTests();

// Providers.
const RP1 = 'a1000000-0000-4000-8000-000000000001';
const RP2 = 'a1000000-0000-4000-8000-000000000002';
const EMPTY = 'a1000000-0000-4000-8000-000000000003';
const MISSING = 'a1000000-0000-4000-8000-0000000000ff';
const CN = 'c0000000-0000-4000-8000-000000000001';
const GPU1 = 'c0000000-0000-4000-8000-000000000002';
const GPU2 = 'c0000000-0000-4000-8000-000000000003';
// Consumers, projects, users.
const C = (n: number) => `b2000000-0000-4000-8000-0000000000${String(n).padStart(2, '0')}`;
const I1 = 'd3000000-0000-4000-8000-000000000001';
const I2 = 'd3000000-0000-4000-8000-000000000002';
const I3 = 'd3000000-0000-4000-8000-000000000003';
const P1 = 'project-one';
const P2 = 'project-two';
const U1 = 'user-one';
const U2 = 'user-two';
/** A custom class, seeded with the id placement gives the first one. */
const CUSTOM = 'CUSTOM_MAGIC';

interface Step {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  version?: string;
  /** A JSON value, or a string sent as written. */
  body?: unknown;
  /** Sent instead of application/json. */
  contentType?: string;
  /** What placement 8.0.0 answers: checked on the real side, so a wrong sequence shows as such. */
  status: number;
}

/** One request, with a body when the step has one. */
function send(base: string, step: Omit<Step, 'status'>): Promise<Exchange> {
  const body =
    step.body === undefined || typeof step.body === 'string'
      ? step.body
      : JSON.stringify(step.body);
  const headers: Record<string, string> = step.contentType
    ? { 'content-type': step.contentType }
    : {};
  return call(base, { method: step.method, path: step.path, version: step.version, body, headers });
}

/** Runs the steps on both sides in order; returns every difference found. */
async function compareSequence(ours: string, theirs: string, steps: Step[]): Promise<string[]> {
  const found: string[] = [];
  for (const step of steps) {
    const [a, b] = [await send(ours, step), await send(theirs, step)];
    const label = `${step.method} ${step.path} @${step.version ?? '1.0'} ${typeof step.body === 'string' ? step.body : JSON.stringify(step.body ?? null)}`;
    if (b.status !== step.status) {
      found.push(
        `${label}\n  placement answered ${b.status}, the sequence expects ${step.status}: ${b.body}`,
      );
      continue;
    }
    const diffs = differences(a, b);
    if (a.body !== '' && b.body === '') diffs.push(`ours has a body: ${a.body}`);
    if (diffs.length > 0) found.push(`${label}\n  ${diffs.join('\n  ')}`);
  }
  return found;
}

// ---------------------------------------------------------------------------
// Seeding and the rows compared at the end.

/** A provider as placement's create writes it; a child names its parent (and shares its root). */
async function seedProvider(db: Database, uuid: string, name: string, parent?: string) {
  await db
    .knex('resource_providers')
    .insert({ uuid, name, generation: 0, created_at: utcTimestamp() });
  const idOf = async (u: string) =>
    (await db.knex('resource_providers').where({ uuid: u }).first('id', 'root_provider_id')) as {
      id: number;
      root_provider_id: number | null;
    };
  const me = await idOf(uuid);
  const up = parent ? await idOf(parent) : undefined;
  await db
    .knex('resource_providers')
    .where({ id: me.id })
    .update({
      root_provider_id: up ? up.root_provider_id : me.id,
      parent_provider_id: up ? up.id : null,
    });
}

async function seed(db: Database): Promise<void> {
  await syncSchema(db, { target: 'zed' });
  await db.knex('resource_classes').insert({ id: 10000, name: CUSTOM, created_at: utcTimestamp() });
  for (const [uuid, name] of [
    [RP1, 'rp1'],
    [RP2, 'rp2'],
    [EMPTY, 'empty'],
    [CN, 'compute'],
  ] as const) {
    await seedProvider(db, uuid, name);
  }
  await seedProvider(db, GPU1, 'compute_pgpu0', CN);
  await seedProvider(db, GPU2, 'compute_pgpu1', CN);
}

/** Everything the writes leave behind, keyed by what the API shows (never internal ids). */
async function rowsOf(db: Database): Promise<Record<string, unknown[]>> {
  const k = db.knex;
  const normal = (rows: Record<string, unknown>[]) =>
    rows.map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([key, v]) => [
          key,
          key.endsWith('_at')
            ? v !== null
            : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v)
              ? Number(v)
              : v,
        ]),
      ),
    );
  return {
    providers: normal(
      await k('resource_providers').select('uuid', 'generation', 'updated_at').orderBy('uuid'),
    ),
    inventories: normal(
      await k('inventories as i')
        .join('resource_providers as rp', 'rp.id', 'i.resource_provider_id')
        .join('resource_classes as rc', 'rc.id', 'i.resource_class_id')
        .select(
          'rp.uuid',
          'rc.name',
          'i.total',
          'i.reserved',
          'i.min_unit',
          'i.max_unit',
          'i.step_size',
        )
        .select(k.raw('i.allocation_ratio * 1000 AS ratio_milli'))
        .orderBy(['rp.uuid', 'rc.name']),
    ),
    allocations: normal(
      await k('allocations as a')
        .join('resource_providers as rp', 'rp.id', 'a.resource_provider_id')
        .join('resource_classes as rc', 'rc.id', 'a.resource_class_id')
        .select('rp.uuid', 'rc.name', 'a.consumer_id', 'a.used', 'a.created_at', 'a.updated_at')
        .orderBy(['a.consumer_id', 'rp.uuid', 'rc.name']),
    ),
    consumers: normal(
      await k('consumers as c')
        .leftJoin('projects as p', 'p.id', 'c.project_id')
        .leftJoin('users as u', 'u.id', 'c.user_id')
        .leftJoin('consumer_types as t', 't.id', 'c.consumer_type_id')
        .select('c.uuid', 'c.generation', 'p.external_id as project', 'u.external_id as user')
        .select('t.name as type', 'c.created_at', 'c.updated_at')
        .orderBy('c.uuid'),
    ),
    projects: normal(
      await k('projects').select('external_id', 'created_at', 'updated_at').orderBy('external_id'),
    ),
    users: normal(
      await k('users').select('external_id', 'created_at', 'updated_at').orderBy('external_id'),
    ),
    consumerTypes: normal(await k('consumer_types').select('name', 'created_at').orderBy('name')),
  };
}

// ---------------------------------------------------------------------------
// The sequences.

const put = (consumer: string, version: string, body: unknown, status: number): Step => ({
  method: 'PUT',
  path: `/allocations/${consumer}`,
  version,
  body,
  status,
});
const get = (path: string, version = '1.39'): Step => ({
  method: 'GET',
  path,
  version,
  status: 200,
});
const dict = (allocations: Record<string, Record<string, number>>) =>
  Object.fromEntries(Object.entries(allocations).map(([rp, resources]) => [rp, { resources }]));
const owned = (project = P1, user = U1) => ({ project_id: project, user_id: user });

const INVENTORIES: Step[] = [
  {
    method: 'PUT',
    path: `/resource_providers/${RP1}/inventories`,
    body: {
      resource_provider_generation: 0,
      inventories: {
        VCPU: { total: 8, allocation_ratio: 2.0 },
        MEMORY_MB: { total: 4096, reserved: 512 },
        DISK_GB: { total: 100, min_unit: 10, max_unit: 50, step_size: 5 },
        [CUSTOM]: { total: 3 },
      },
    },
    status: 200,
  },
  {
    method: 'PUT',
    path: `/resource_providers/${RP2}/inventories`,
    body: {
      resource_provider_generation: 0,
      inventories: { VCPU: { total: 4 }, DISK_GB: { total: 200 } },
    },
    status: 200,
  },
];

/** PUT /allocations/{consumer_uuid} from 1.0 to 1.39, with every refusal on the way. */
const PUTS: Step[] = [
  // Before 1.8: a list, no owner (the incomplete consumer's project and user).
  put(
    C(1),
    '1.0',
    { allocations: [{ resource_provider: { uuid: RP1 }, resources: { VCPU: 2, DISK_GB: 20 } }] },
    204,
  ),
  get(`/allocations/${C(1)}`, '1.12'),
  get(`/allocations/${C(1)}`, '1.38'),
  // A provider twice in the list: the later entry is the one written.
  put(
    C(1),
    '1.7',
    {
      allocations: [
        { resource_provider: { uuid: RP1 }, resources: { VCPU: 1 } },
        { resource_provider: { uuid: RP2 }, resources: { DISK_GB: 10 } },
        { resource_provider: { uuid: RP1 }, resources: { VCPU: 3, MEMORY_MB: 256 } },
      ],
    },
    204,
  ),
  get(`/allocations/${C(1)}`, '1.28'),
  put(
    C(2),
    '1.8',
    {
      allocations: [
        { resource_provider: { uuid: RP1 }, resources: { MEMORY_MB: 1024 } },
        { resource_provider: { uuid: RP2 }, resources: { VCPU: 1 } },
      ],
      ...owned(),
    },
    204,
  ),
  put('not-a-uuid', '1.12', { allocations: dict({ [RP1]: { VCPU: 1 } }), ...owned() }, 400),
  // A UUID without dashes, in capitals: the consumer is stored in the canonical form.
  put(
    C(3).replace(/-/g, '').toUpperCase(),
    '1.12',
    { allocations: dict({ [RP1]: { VCPU: 1 } }), ...owned() },
    204,
  ),
  get(`/allocations/${C(3)}`, '1.12'),
  // What GET shows may be put back: a provider's generation in the body is ignored.
  put(
    C(3),
    '1.12',
    { allocations: { [RP1]: { generation: 99, resources: { VCPU: 1 } } }, ...owned() },
    204,
  ),
  // Refusals for a new consumer: it is created, then deleted again.
  put(C(4), '1.12', { allocations: dict({ [RP1]: { VCPU: 1, CUSTOM_NOPE: 1 } }), ...owned() }, 400),
  put(
    C(4),
    '1.12',
    {
      allocations: dict({ [EMPTY]: { DISK_GB: 1, [CUSTOM]: 1, VCPU: 1, MEMORY_MB: 1 } }),
      ...owned(),
    },
    409,
  ),
  put(
    C(4),
    '1.12',
    { allocations: dict({ [RP1]: { VCPU: 1 }, [EMPTY]: { DISK_GB: 1 } }), ...owned() },
    409,
  ),
  put(
    C(4),
    '1.12',
    { allocations: dict({ [RP1]: { MEMORY_MB: 1, PCI_DEVICE: 1 } }), ...owned() },
    409,
  ),
  put(C(4), '1.12', { allocations: dict({ [RP1]: { DISK_GB: 12 } }), ...owned() }, 409),
  put(C(4), '1.12', { allocations: dict({ [RP1]: { DISK_GB: 5 } }), ...owned() }, 409),
  put(C(4), '1.12', { allocations: dict({ [RP1]: { DISK_GB: 55 } }), ...owned() }, 409),
  put(C(4), '1.12', { allocations: dict({ [RP1]: { VCPU: 13 } }), ...owned() }, 409),
  put(C(4), '1.12', { allocations: dict({ [RP2]: { VCPU: 4 } }), ...owned() }, 409),
  put(
    C(4),
    '1.12',
    { allocations: dict({ [RP1]: { [CUSTOM]: 2 }, [RP2]: { VCPU: 2, DISK_GB: 195 } }), ...owned() },
    409,
  ),
  // A provider that does not exist: refused before the write, and the new consumer stays.
  put(
    C(4),
    '1.12',
    { allocations: dict({ [RP1]: { VCPU: 1 }, [MISSING]: { VCPU: 1 } }), ...owned() },
    400,
  ),
  get(`/allocations/${C(4)}`, '1.28'),
  // Consumer generations (1.28).
  put(
    C(4),
    '1.28',
    { allocations: dict({ [RP2]: { VCPU: 1 } }), ...owned(), consumer_generation: null },
    409,
  ),
  put(
    C(4),
    '1.28',
    { allocations: dict({ [RP2]: { VCPU: 1 } }), ...owned(), consumer_generation: 0 },
    204,
  ),
  get(`/allocations/${C(4)}`, '1.28'),
  put(
    C(4),
    '1.28',
    { allocations: dict({ [RP2]: { VCPU: 1 } }), ...owned(), consumer_generation: 5 },
    409,
  ),
  put(
    C(5),
    '1.28',
    { allocations: dict({ [RP2]: { VCPU: 1 } }), ...owned(), consumer_generation: 3 },
    409,
  ),
  // Emptied: the allocations go, and the consumer with them.
  put(C(4), '1.28', { allocations: {}, ...owned(), consumer_generation: 1 }, 204),
  get(`/allocations/${C(4)}`, '1.28'),
  // Emptied while it had none: the new consumer stays.
  put(C(6), '1.28', { allocations: {}, ...owned(), consumer_generation: null }, 204),
  // Another owner.
  put(C(1), '1.12', { allocations: dict({ [RP1]: { VCPU: 3 } }), ...owned(P2, U2) }, 204),
  get(`/allocations/${C(1)}`, '1.28'),
  // Mappings (1.34) are accepted and not kept; consumer types (1.38) are created as needed.
  put(
    C(2),
    '1.34',
    {
      allocations: dict({ [RP1]: { MEMORY_MB: 1024 } }),
      ...owned(),
      consumer_generation: 1,
      mappings: { '': [RP1] },
    },
    204,
  ),
  put(
    C(2),
    '1.38',
    {
      allocations: dict({ [RP1]: { MEMORY_MB: 512 } }),
      ...owned(),
      consumer_generation: 2,
      consumer_type: 'INSTANCE',
    },
    204,
  ),
  get(`/allocations/${C(2)}`, '1.38'),
  put(
    C(2),
    '1.38',
    {
      allocations: dict({ [RP1]: { MEMORY_MB: 512 } }),
      ...owned(),
      consumer_generation: 3,
      consumer_type: 'MIGRATION',
    },
    204,
  ),
  get(`/allocations/${C(2)}`, '1.38'),
  put(
    C(7),
    '1.38',
    {
      allocations: dict({ [EMPTY]: { VCPU: 1 } }),
      ...owned('project-three', U1),
      consumer_generation: null,
      consumer_type: 'NEWTYPE',
    },
    409,
  ),
  get(`/allocations/${C(2)}`, '1.0'),
  get(`/resource_providers/${RP1}/allocations`, '1.28'),
  get(`/resource_providers/${RP1}/usages`),
  get(`/resource_providers/${RP2}/usages`),
  get(`/usages?project_id=${P1}&consumer_type=all`, '1.38'),
  get(`/usages?project_id=${P2}&user_id=${U2}`, '1.9'),
  // DELETE: the allocations and the consumer go, generations stay.
  { method: 'DELETE', path: `/allocations/${C(1)}`, status: 204 },
  { method: 'DELETE', path: `/allocations/${C(1)}`, status: 404 },
  { method: 'DELETE', path: `/allocations/${C(6)}`, version: '1.23', status: 404 },
  get(`/resource_providers/${RP1}/allocations`, '1.28'),
];

/** POST /allocations (1.13): several consumers at once. */
const POSTS: Step[] = [
  { method: 'POST', path: '/allocations', version: '1.12', body: {}, status: 404 },
  {
    method: 'POST',
    path: '/allocations',
    version: '1.13',
    body: {
      [C(8)]: { allocations: dict({ [RP1]: { VCPU: 1 } }), ...owned() },
      [C(9)]: {
        allocations: dict({ [RP2]: { DISK_GB: 10 }, [RP1]: { DISK_GB: 10 } }),
        ...owned(P2, U2),
      },
    },
    status: 204,
  },
  get(`/allocations/${C(9)}`, '1.28'),
  // One consumer cleared: its allocations and its row go.
  {
    method: 'POST',
    path: '/allocations',
    version: '1.13',
    body: {
      [C(8)]: { allocations: dict({ [RP1]: { VCPU: 2 } }), ...owned() },
      [C(9)]: { allocations: {}, ...owned(P2, U2) },
    },
    status: 204,
  },
  get(`/allocations/${C(9)}`, '1.28'),
  // A new consumer given none: it stays, without allocations.
  {
    method: 'POST',
    path: '/allocations',
    version: '1.13',
    body: { [C(10)]: { allocations: {}, ...owned() } },
    status: 204,
  },
  // The second consumer's generation is wrong: the first, created, is deleted again.
  {
    method: 'POST',
    path: '/allocations',
    version: '1.28',
    body: {
      [C(11)]: { allocations: dict({ [RP2]: { VCPU: 1 } }), ...owned(), consumer_generation: null },
      [C(8)]: { allocations: dict({ [RP1]: { VCPU: 1 } }), ...owned(), consumer_generation: 7 },
    },
    status: 409,
  },
  // A provider that does not exist: the new consumers stay.
  {
    method: 'POST',
    path: '/allocations',
    version: '1.28',
    body: {
      [C(11)]: { allocations: dict({ [RP2]: { VCPU: 1 } }), ...owned(), consumer_generation: null },
      [C(12)]: {
        allocations: dict({ [MISSING]: { VCPU: 1 } }),
        ...owned(),
        consumer_generation: null,
      },
    },
    status: 400,
  },
  // Together over capacity, though each alone fits.
  {
    method: 'POST',
    path: '/allocations',
    version: '1.28',
    body: {
      [C(13)]: { allocations: dict({ [RP2]: { VCPU: 2 } }), ...owned(), consumer_generation: null },
      [C(14)]: { allocations: dict({ [RP2]: { VCPU: 2 } }), ...owned(), consumer_generation: null },
      [C(15)]: { allocations: dict({ [RP2]: { VCPU: 2 } }), ...owned(), consumer_generation: null },
    },
    status: 409,
  },
  {
    method: 'POST',
    path: '/allocations',
    version: '1.13',
    body: { [C(13)]: { allocations: dict({ [RP2]: { CUSTOM_NOPE: 1 } }), ...owned() } },
    status: 400,
  },
  {
    method: 'POST',
    path: '/allocations',
    version: '1.38',
    body: {
      [C(8)]: {
        allocations: dict({ [RP1]: { VCPU: 1 } }),
        ...owned(),
        consumer_generation: 2,
        consumer_type: 'INSTANCE',
      },
      [C(11)]: {
        allocations: dict({ [RP2]: { VCPU: 1 } }),
        ...owned(),
        consumer_generation: 0,
        consumer_type: 'INSTANCE',
        mappings: { _A: [RP2] },
      },
    },
    status: 204,
  },
  get(`/allocations/${C(11)}`, '1.38'),
  get(`/resource_providers/${RP2}/allocations`, '1.28'),
  get(`/usages?project_id=${P1}&consumer_type=all`, '1.38'),
  get(`/usages?project_id=${P1}`, '1.37'),
];

const reshapeBody = (
  generations: { cn: number; gpu1: number; gpu2: number },
  cnInventory: Record<string, unknown>,
  gpuTotal: number,
  allocations: unknown,
) => ({
  inventories: {
    [CN]: { resource_provider_generation: generations.cn, inventories: cnInventory },
    [GPU1]: {
      resource_provider_generation: generations.gpu1,
      inventories: { VGPU: { total: gpuTotal } },
    },
    [GPU2]: {
      resource_provider_generation: generations.gpu2,
      inventories: { VGPU: { total: gpuTotal } },
    },
  },
  allocations,
});
const CN_REST = { VCPU: { total: 16 }, MEMORY_MB: { total: 32768 }, DISK_GB: { total: 1000 } };
const I1_REST = { VCPU: 4, MEMORY_MB: 4096, DISK_GB: 40 };

/** nova's VGPU reshape: a flat compute node's VGPUs move to two child providers, the instance's allocation with them. */
const RESHAPE: Step[] = [
  {
    method: 'PUT',
    path: `/resource_providers/${CN}/inventories`,
    body: {
      resource_provider_generation: 0,
      inventories: { ...CN_REST, VGPU: { total: 8, max_unit: 8 } },
    },
    status: 200,
  },
  put(
    I1,
    '1.28',
    { allocations: dict({ [CN]: { ...I1_REST, VGPU: 2 } }), ...owned(), consumer_generation: null },
    204,
  ),
  get(`/allocations/${I1}`, '1.28'),
  { method: 'POST', path: '/reshaper', version: '1.29', body: {}, status: 404 },
  { method: 'GET', path: '/reshaper', version: '1.30', status: 405 },
  // Refusals, each leaving everything as it was.
  {
    method: 'POST',
    path: '/reshaper',
    version: '1.30',
    body: reshapeBody({ cn: 1, gpu1: 0, gpu2: 0 }, CN_REST, 4, {}),
    status: 409,
  },
  {
    method: 'POST',
    path: '/reshaper',
    version: '1.30',
    body: {
      inventories: { [MISSING]: { resource_provider_generation: 0, inventories: {} } },
      allocations: {},
    },
    status: 400,
  },
  {
    method: 'POST',
    path: '/reshaper',
    version: '1.30',
    body: reshapeBody({ cn: 2, gpu1: 0, gpu2: 0 }, CN_REST, 4, {}),
    status: 409,
  },
  {
    method: 'POST',
    path: '/reshaper',
    version: '1.30',
    body: reshapeBody({ cn: 2, gpu1: 0, gpu2: 0 }, CN_REST, 1, {
      [I1]: {
        allocations: dict({ [CN]: I1_REST, [GPU1]: { VGPU: 2 } }),
        ...owned(),
        consumer_generation: 1,
      },
    }),
    status: 409,
  },
  {
    method: 'POST',
    path: '/reshaper',
    version: '1.30',
    body: reshapeBody(
      { cn: 2, gpu1: 0, gpu2: 0 },
      { ...CN_REST, CUSTOM_NOPE: { total: 1 } },
      4,
      {},
    ),
    status: 400,
  },
  {
    method: 'POST',
    path: '/reshaper',
    version: '1.30',
    body: reshapeBody({ cn: 2, gpu1: 0, gpu2: 0 }, CN_REST, 4, {
      [I1]: {
        allocations: dict({ [CN]: I1_REST, [GPU1]: { VGPU: 2 } }),
        ...owned(),
        consumer_generation: 4,
      },
    }),
    status: 409,
  },
  {
    method: 'POST',
    path: '/reshaper',
    version: '1.30',
    body: reshapeBody({ cn: 2, gpu1: 0, gpu2: 0 }, CN_REST, 4, {
      [I1]: {
        allocations: dict({ [CN]: I1_REST, [MISSING]: { VGPU: 2 } }),
        ...owned(),
        consumer_generation: 1,
      },
    }),
    status: 400,
  },
  // The reshape itself.
  {
    method: 'POST',
    path: '/reshaper',
    version: '1.30',
    body: reshapeBody({ cn: 2, gpu1: 0, gpu2: 0 }, CN_REST, 4, {
      [I1]: {
        allocations: dict({ [CN]: I1_REST, [GPU1]: { VGPU: 2 } }),
        ...owned(),
        consumer_generation: 1,
      },
    }),
    status: 204,
  },
  ...[CN, GPU1, GPU2].flatMap((rp) => [
    get(`/resource_providers/${rp}/inventories`, '1.30'),
    get(`/resource_providers/${rp}/usages`, '1.30'),
    get(`/resource_providers/${rp}/allocations`, '1.30'),
  ]),
  get(`/allocations/${I1}`, '1.30'),
  // A second instance, against the nested tree.
  put(
    I2,
    '1.30',
    {
      allocations: dict({ [CN]: { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 20 }, [GPU2]: { VGPU: 1 } }),
      ...owned(),
      consumer_generation: null,
    },
    204,
  ),
  put(
    I3,
    '1.30',
    { allocations: dict({ [GPU1]: { VGPU: 3 } }), ...owned(), consumer_generation: null },
    409,
  ),
  put(
    I3,
    '1.30',
    { allocations: dict({ [CN]: { VGPU: 1 } }), ...owned(), consumer_generation: null },
    409,
  ),
  get(`/allocations/${I2}`, '1.30'),
  get(`/resource_providers/${GPU2}/usages`, '1.30'),
  // 1.38: mappings and a consumer type; a child's inventory shrinks to what is allocated.
  {
    method: 'POST',
    path: '/reshaper',
    version: '1.38',
    body: {
      inventories: {
        [GPU2]: { resource_provider_generation: 3, inventories: { VGPU: { total: 1 } } },
      },
      allocations: {
        [I2]: {
          allocations: dict({
            [CN]: { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 20 },
            [GPU2]: { VGPU: 1 },
          }),
          ...owned(),
          consumer_generation: 1,
          consumer_type: 'INSTANCE',
          mappings: { '': [CN], _GPU: [GPU2] },
        },
      },
    },
    status: 204,
  },
  get(`/allocations/${I2}`, '1.38'),
  get(`/resource_providers/${GPU2}/inventories`, '1.38'),
  // Back to flat: the children's inventory goes once their allocations have moved.
  {
    method: 'POST',
    path: '/reshaper',
    version: '1.34',
    body: {
      inventories: {
        [CN]: { resource_provider_generation: 7, inventories: { ...CN_REST, VGPU: { total: 8 } } },
        [GPU1]: { resource_provider_generation: 3, inventories: {} },
        [GPU2]: { resource_provider_generation: 6, inventories: {} },
      },
      allocations: {
        [I1]: {
          allocations: dict({ [CN]: { ...I1_REST, VGPU: 2 } }),
          ...owned(),
          consumer_generation: 2,
        },
        [I2]: {
          allocations: dict({ [CN]: { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 20, VGPU: 1 } }),
          ...owned(),
          consumer_generation: 2,
        },
        [I3]: { allocations: {}, ...owned(), consumer_generation: null },
      },
    },
    status: 204,
  },
  ...[CN, GPU1, GPU2].flatMap((rp) => [
    get(`/resource_providers/${rp}/inventories`, '1.30'),
    get(`/resource_providers/${rp}/usages`, '1.30'),
  ]),
];

/** Bodies placement's schemas refuse (once the request schema is applied). */
const REFUSED_BODIES: Step[] = [
  put(C(20), '1.0', { allocations: [] }, 400),
  put(
    C(20),
    '1.0',
    { allocations: [{ resource_provider: { uuid: RP1 }, resources: { VCPU: 0 } }] },
    400,
  ),
  put(
    C(20),
    '1.8',
    { allocations: [{ resource_provider: { uuid: RP1 }, resources: { VCPU: 1 } }] },
    400,
  ),
  put(C(20), '1.12', { allocations: {}, ...owned() }, 400),
  put(C(20), '1.28', { allocations: dict({ [RP1]: { VCPU: 1 } }), ...owned() }, 400),
  put(
    C(20),
    '1.33',
    {
      allocations: dict({ [RP1]: { VCPU: 1 } }),
      ...owned(),
      consumer_generation: null,
      mappings: { '': [RP1] },
    },
    400,
  ),
  put(
    C(20),
    '1.38',
    { allocations: dict({ [RP1]: { VCPU: 1 } }), ...owned(), consumer_generation: null },
    400,
  ),
  put(
    C(20),
    '1.34',
    {
      allocations: dict({ [RP1]: { VCPU: 1 } }),
      ...owned(),
      consumer_generation: null,
      mappings: { alpha: 'beta' },
    },
    400,
  ),
  put(
    C(20),
    '1.34',
    {
      allocations: dict({ [RP1]: { VCPU: 1 } }),
      ...owned(),
      consumer_generation: null,
      mappings: {},
    },
    400,
  ),
  put(
    C(20),
    '1.36',
    {
      allocations: dict({ [RP1]: { VCPU: 1 } }),
      ...owned(),
      consumer_generation: null,
      mappings: { _A: ['not-a-uuid'] },
    },
    400,
  ),
  put(C(20), '1.12', { allocations: dict({ [RP1]: { vcpu: 1 } }), ...owned() }, 400),
  put(C(20), '1.12', { allocations: dict({ nice_house_friend: { VCPU: 1 } }), ...owned() }, 400),
  put(
    C(20),
    '1.12',
    { allocations: [{ resource_provider: { uuid: RP1 }, resources: { VCPU: 1 } }], ...owned() },
    400,
  ),
  put(
    C(20),
    '1.38',
    {
      allocations: dict({ [RP1]: { VCPU: 1 } }),
      ...owned(),
      consumer_generation: null,
      consumer_type: 'lower',
    },
    400,
  ),
  put(C(20), '1.12', '{"allocations": {', 400),
  {
    ...put(C(20), '1.12', { allocations: dict({ [RP1]: { VCPU: 1 } }), ...owned() }, 415),
    contentType: 'text/plain',
  },
  { method: 'POST', path: '/allocations', version: '1.13', body: {}, status: 400 },
  {
    method: 'POST',
    path: '/allocations',
    version: '1.33',
    body: {
      [C(20)]: {
        allocations: dict({ [RP1]: { VCPU: 1 } }),
        ...owned(),
        consumer_generation: null,
        mappings: { '': [RP1] },
      },
    },
    status: 400,
  },
  {
    method: 'POST',
    path: '/allocations',
    version: '1.13',
    body: { [C(20)]: { cow: 'moo' } },
    status: 400,
  },
  { method: 'POST', path: '/reshaper', version: '1.30', body: { cows: 'moo' }, status: 400 },
  {
    method: 'POST',
    path: '/reshaper',
    version: '1.30',
    body: {
      inventories: {
        [RP1]: {
          resource_provider_generation: 0,
          inventories: { VCPU: { total: 1, bad_field: 1 } },
        },
      },
      allocations: {},
    },
    status: 400,
  },
  {
    method: 'POST',
    path: '/reshaper',
    version: '1.30',
    body: { inventories: {}, allocations: {} },
    status: 400,
  },
];

// ---------------------------------------------------------------------------

describe.runIf(available).each(testEngines())('allocation writes on %s', (engine) => {
  const fresh = freshDatabases();
  let mine: TestDatabase;
  let real: TestDatabase;
  let ours: RunningService;
  let theirs: RunningService;

  const rowsOnBoth = async () => {
    const out: Record<string, unknown[]>[] = [];
    for (const d of [mine, real]) {
      const db = await d.open();
      try {
        out.push(await rowsOf(db));
      } finally {
        await db.close();
      }
    }
    return out;
  };

  beforeAll(async () => {
    [mine, real] = [await fresh(engine, 'alloc_ours'), await fresh(engine, 'alloc_real')];
    for (const d of [mine, real]) {
      const db = await d.open();
      try {
        await seed(db);
      } finally {
        await db.close();
      }
    }
    // Both sync the standard classes on start, in the same order: the same ids on both sides.
    [theirs, ours] = await Promise.all([startRealPlacement(real.url), startOurApi(mine.url, [])]);
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled([ours?.stop(), theirs?.stop()]);
  });

  it('PUT /allocations/{consumer_uuid} at every microversion, with every refusal', async () => {
    const found = await compareSequence(ours.url, theirs.url, [...INVENTORIES, ...PUTS]);
    expect(found.join('\n\n')).toBe('');
  });

  it('POST /allocations', async () => {
    const found = await compareSequence(ours.url, theirs.url, POSTS);
    expect(found.join('\n\n')).toBe('');
  });

  it('reshapes a flat compute node into a nested tree and back', async () => {
    const found = await compareSequence(ours.url, theirs.url, RESHAPE);
    expect(found.join('\n\n')).toBe('');
  });

  it('leaves the same rows behind', async () => {
    const [a, b] = await rowsOnBoth();
    expect(a).toEqual(b);
  });

  it("refuses what placement's schemas refuse, and nothing changes", async () => {
    const found = await compareSequence(ours.url, theirs.url, REFUSED_BODIES);
    expect(found.join('\n\n')).toBe('');
    const [a, b] = await rowsOnBoth();
    expect(a).toEqual(b);
  });
});

// ---------------------------------------------------------------------------
// placement.conf's [placement] options of allocation writes.

/** Owner of pre-1.8 allocations configured; no write ever retried, so none ever happens. */
const PLACEMENT_SECTION = [
  '[placement]',
  'incomplete_consumer_project_id = legacy-project',
  'incomplete_consumer_user_id = legacy-user',
  'allocation_conflict_retry_count = 0',
  '',
].join('\n');

const CONFIGURED: Step[] = [
  INVENTORIES[0]!,
  put(
    C(30),
    '1.0',
    { allocations: [{ resource_provider: { uuid: RP1 }, resources: { VCPU: 1 } }] },
    409,
  ),
  put(
    C(31),
    '1.28',
    { allocations: dict({ [RP1]: { VCPU: 1 } }), ...owned(), consumer_generation: null },
    409,
  ),
  // Even with nothing to write: placement's loop never runs.
  put(C(32), '1.28', { allocations: {}, ...owned(), consumer_generation: null }, 409),
  get(`/allocations/${C(30)}`, '1.28'),
];

describe.runIf(available).each(testEngines().slice(0, 1))(
  "placement.conf's [placement] options on %s",
  (engine) => {
    const fresh = freshDatabases();
    let mine: TestDatabase;
    let real: TestDatabase;
    let ours: RunningService;
    let theirs: RunningService;
    const dir = mkdtempSync(join(tmpdir(), 'pu-alloc-conf-'));

    beforeAll(async () => {
      [mine, real] = [
        await fresh(engine, 'alloc_conf_ours'),
        await fresh(engine, 'alloc_conf_real'),
      ];
      for (const d of [mine, real]) {
        const db = await d.open();
        try {
          await seed(db);
        } finally {
          await db.close();
        }
      }
      writeFileSync(join(dir, 'ours.conf'), PLACEMENT_SECTION);
      writeFileSync(
        join(dir, 'placement.conf'),
        [
          '[DEFAULT]',
          'use_stderr = true',
          '[api]',
          'auth_strategy = noauth2',
          '[placement_database]',
          `connection = ${sqlalchemyUrl(real.url)}`,
          PLACEMENT_SECTION,
        ].join('\n'),
      );
      [theirs, ours] = await Promise.all([
        startRealPlacement(real.url, { extraArgs: ['--env', `OS_PLACEMENT_CONFIG_DIR=${dir}`] }),
        startOurApi(mine.url, ['--placement-config', join(dir, 'ours.conf')]),
      ]);
    }, 240_000);

    afterAll(async () => {
      await Promise.allSettled([ours?.stop(), theirs?.stop()]);
      rmSync(dir, { recursive: true, force: true });
    });

    it('owns pre-1.8 consumers by the configured project and user; 0 retries never write', async () => {
      const found = await compareSequence(ours.url, theirs.url, CONFIGURED);
      expect(found.join('\n\n')).toBe('');
      const rows: Record<string, unknown[]>[] = [];
      for (const d of [mine, real]) {
        const db = await d.open();
        try {
          rows.push(await rowsOf(db));
        } finally {
          await db.close();
        }
      }
      expect(rows[0]).toEqual(rows[1]);
      expect(
        rows[0]!['projects']!.map((p) => (p as { external_id: string }).external_id),
      ).toContain('legacy-project');
    });
  },
);

// ---------------------------------------------------------------------------
// Concurrency: two of our servers on one database.

interface Claim {
  status: number;
  code?: string;
  detail?: string;
}

async function claim(base: string, consumer: string, rp: string, vcpus: number): Promise<Claim> {
  const r = await send(base, {
    method: 'PUT',
    path: `/allocations/${consumer}`,
    version: '1.39',
    body: {
      allocations: dict({ [rp]: { VCPU: vcpus } }),
      ...owned(),
      consumer_generation: null,
      consumer_type: 'INSTANCE',
    },
  });
  if (r.status === 204) return { status: 204 };
  const e = (JSON.parse(r.body) as { errors: { code: string; detail: string }[] }).errors[0]!;
  return { status: r.status, code: e.code, detail: e.detail };
}

async function vcpuUsage(base: string, rp: string): Promise<{ used: number; generation: number }> {
  const r = await send(base, { method: 'GET', path: `/resource_providers/${rp}/usages` });
  const body = JSON.parse(r.body) as {
    usages: { VCPU?: number };
    resource_provider_generation: number;
  };
  return { used: body.usages.VCPU ?? 0, generation: body.resource_provider_generation };
}

const CAPACITY_TEXT = 'The requested amount would exceed the capacity';

describeEach(testEngines().filter((e) => e !== 'sqlite'))(
  'two of our servers on one %s database',
  (engine) => {
    const fresh = freshDatabases();
    let servers: RunningService[] = [];

    beforeAll(async () => {
      const database = await fresh(engine, 'alloc_race');
      const db = await database.open();
      try {
        await syncSchema(db, { target: 'zed' });
        await seedProvider(db, RP1, 'raced');
        await seedProvider(db, RP2, 'raced-too');
        await seedProvider(db, EMPTY, 'raced-three');
      } finally {
        await db.close();
      }
      servers = [await startOurApi(database.url, []), await startOurApi(database.url, [])];
      for (const [rp, total] of [
        [RP1, 12],
        [RP2, 40],
        [EMPTY, 10],
      ] as const) {
        const r = await send(servers[0]!.url, {
          method: 'PUT',
          path: `/resource_providers/${rp}/inventories`,
          body: { resource_provider_generation: 0, inventories: { VCPU: { total } } },
        });
        expect(r.status).toBe(200);
      }
    }, 240_000);

    afterAll(async () => {
      await Promise.allSettled(servers.map((s) => s.stop()));
    });

    it('many claims for the last units: never over capacity, 409 for the rest', async () => {
      // 4 of 12 taken first; then 24 claims of one VCPU race for the other 8.
      expect((await claim(servers[0]!.url, C(90), RP1, 4)).status).toBe(204);
      const before = await vcpuUsage(servers[1]!.url, RP1);
      const claims = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          claim(
            servers[i % 2]!.url,
            `e4000000-0000-4000-8000-0000000001${String(i).padStart(2, '0')}`,
            RP1,
            1,
          ),
        ),
      );
      const won = claims.filter((c) => c.status === 204);
      const full = claims.filter((c) => c.status === 409 && c.detail?.includes(CAPACITY_TEXT));
      const raced = claims.filter(
        (c) => c.status === 409 && c.code === 'placement.concurrent_update',
      );
      expect(won.length + full.length + raced.length, JSON.stringify(claims)).toBe(24);
      const after = await vcpuUsage(servers[0]!.url, RP1);
      expect(after.used).toBeLessThanOrEqual(12);
      expect(after.used).toBe(4 + won.length);
      // Every write moved the generation once; a capacity refusal saw the provider full.
      expect(after.generation).toBe(before.generation + won.length);
      if (full.length > 0) expect(after.used).toBe(12);
    });

    it('claims of mixed sizes from many consumers at once add up to at most the capacity', async () => {
      const sizes = [1, 2, 3, 5, 7, 11];
      const claims = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          claim(
            servers[i % 2]!.url,
            `e4000000-0000-4000-8000-0000000002${String(i).padStart(2, '0')}`,
            RP2,
            sizes[i % sizes.length]!,
          ),
        ),
      );
      const granted = claims.reduce(
        (sum, c, i) => sum + (c.status === 204 ? sizes[i % sizes.length]! : 0),
        0,
      );
      expect(
        claims.every((c) => c.status === 204 || c.status === 409),
        JSON.stringify(claims),
      ).toBe(true);
      const after = await vcpuUsage(servers[1]!.url, RP2);
      expect(after.used).toBe(granted);
      expect(after.used).toBeLessThanOrEqual(40);
    });

    it('one new consumer claimed many times at once: exactly one claim wins, and keeps its consumer', async () => {
      for (let round = 0; round < 5; round++) {
        const consumer = `e4000000-0000-4000-8000-00000000030${round}`;
        const claims = await Promise.all(
          Array.from({ length: 8 }, (_, i) => claim(servers[i % 2]!.url, consumer, EMPTY, 1)),
        );
        const won = claims.filter((c) => c.status === 204);
        expect(won, JSON.stringify(claims)).toHaveLength(1);
        expect(
          claims
            .filter((c) => c.status !== 204)
            .every((c) => c.status === 409 && c.code === 'placement.concurrent_update'),
          JSON.stringify(claims),
        ).toBe(true);
        // A losing request that created the consumer must not delete it from under the winner.
        const r = await send(servers[round % 2]!.url, {
          method: 'GET',
          path: `/allocations/${consumer}`,
          version: '1.28',
        });
        const body = JSON.parse(r.body) as {
          consumer_generation?: number;
          allocations: Record<string, unknown>;
        };
        expect(body.consumer_generation, r.body).toBe(1);
        expect(Object.keys(body.allocations)).toEqual([EMPTY]);
      }
    });
  },
);
