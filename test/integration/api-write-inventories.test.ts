/**
 * The inventory write routes of `api serve` against placement 8.0.0: the
 * same request sequences sent to the real placement on one fresh database
 * and to ours on an identical other one, every answer compared (status,
 * placement's headers, body, Location), then the inventory rows and
 * generations both left behind. Then the concurrency placement promises:
 * two of our servers on one database, many PUTs with the same generation,
 * exactly one winner per generation and no lost update.
 *
 * Providers and allocations are seeded with SQL, identically on both
 * sides: these routes need them, and are what is under test here.
 */
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

const available = realPlacementServiceForTests();

const RP = '5d2f0c4e-8a51-4d8b-9c3e-1f6a7b8c9d01';
const RP_BUSY = '5d2f0c4e-8a51-4d8b-9c3e-1f6a7b8c9d02';
const RP_VALID = '5d2f0c4e-8a51-4d8b-9c3e-1f6a7b8c9d03';
const MISSING = '5d2f0c4e-8a51-4d8b-9c3e-1f6a7b8c9dff';
const CONSUMER = '7e3a1b2c-4d5e-4f60-8a71-b2c3d4e5f601';

interface Step {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  version?: string;
  /** A JSON value, or a string sent as written. */
  body?: unknown;
  /** What placement 8.0.0 answers: checked on the real side, so a wrong sequence shows as such. */
  status: number;
}

/**
 * Every number of a JSON text as written, with the key it belongs to:
 * JSON.parse makes 16.0 and 16 one number, a Python client does not.
 */
function numberLiterals(text: string): string[] {
  return [...text.matchAll(/"(\w+)": ?(-?\d[\d.eE+-]*)/g)].map((m) => `${m[1]}=${m[2]}`).sort();
}

/** One request, with a body when the step has one. */
function send(base: string, step: Step): Promise<Exchange> {
  const body =
    step.body === undefined || typeof step.body === 'string'
      ? step.body
      : JSON.stringify(step.body);
  return call(base, { method: step.method, path: step.path, version: step.version, body });
}

/**
 * The instant an INSERT stamped, which placement prints in the SQLAlchemy
 * errors it passes through (as a datetime, or as SQLite's text), blanked.
 */
function blankInstants(ex: Exchange): Exchange {
  return {
    ...ex,
    body: ex.body
      .replace(/datetime\.datetime\([\d, ]+\)/g, 'datetime.datetime(<now>)')
      .replace(/'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}'/g, "'<now>'"),
  };
}

/** Runs the steps on both sides in order; returns every difference found. */
async function compareSequence(ours: string, theirs: string, steps: Step[]): Promise<string[]> {
  const found: string[] = [];
  for (const step of steps) {
    let [a, b] = [await send(ours, step), await send(theirs, step)];
    const label = `${step.method} ${step.path} @${step.version ?? '1.0'} ${typeof step.body === 'string' ? step.body : JSON.stringify(step.body ?? null)}`;
    if (b.status !== step.status) {
      found.push(
        `${label}\n  placement answered ${b.status}, the sequence expects ${step.status}: ${b.body}`,
      );
      continue;
    }
    [a, b] = [blankInstants(a), blankInstants(b)];
    const diffs = differences(a, b);
    if (numberLiterals(a.body).join() !== numberLiterals(b.body).join()) {
      diffs.push(
        `numbers as written: ${numberLiterals(a.body).join(' ')} ≠ ${numberLiterals(b.body).join(' ')}`,
      );
    }
    const location = (ex: Exchange, base: string) =>
      ex.headers['location']?.replace(base, '<base>');
    if (location(a, ours) !== location(b, theirs)) {
      diffs.push(`location: ${a.headers['location']} ≠ ${b.headers['location']}`);
    }
    if (diffs.length > 0) found.push(`${label}\n  ${diffs.join('\n  ')}`);
  }
  return found;
}

/** A root provider as placement's create writes it. */
async function seedProvider(db: Database, uuid: string, name: string): Promise<void> {
  await db.knex('resource_providers').insert({
    uuid,
    name,
    generation: 0,
    created_at: utcTimestamp(),
  });
  const [row] = await db.knex('resource_providers').where({ uuid }).select('id');
  await db
    .knex('resource_providers')
    .where({ id: (row as { id: number }).id })
    .update({ root_provider_id: (row as { id: number }).id });
}

/** One consumer's allocation of `used` units of `resourceClass` from provider `rpUuid`. */
async function seedAllocation(
  db: Database,
  rpUuid: string,
  resourceClass: string,
  used: number,
): Promise<void> {
  const k = db.knex;
  const idOf = async (table: string, where: Record<string, unknown>) =>
    ((await k(table).where(where).first('id')) as { id: number } | undefined)?.id;
  if ((await idOf('projects', { external_id: 'p' })) === undefined) {
    await k('projects').insert({ external_id: 'p', created_at: utcTimestamp() });
    await k('users').insert({ external_id: 'u', created_at: utcTimestamp() });
  }
  if ((await idOf('consumers', { uuid: CONSUMER })) === undefined) {
    await k('consumers').insert({
      uuid: CONSUMER,
      project_id: await idOf('projects', { external_id: 'p' }),
      user_id: await idOf('users', { external_id: 'u' }),
      generation: 0,
      created_at: utcTimestamp(),
    });
  }
  await k('allocations').insert({
    resource_provider_id: await idOf('resource_providers', { uuid: rpUuid }),
    consumer_id: CONSUMER,
    resource_class_id: await idOf('resource_classes', { name: resourceClass }),
    used,
    created_at: utcTimestamp(),
  });
}

/** What a database holds of providers' inventories, in a form both sides can be compared in. */
async function inventoryState(db: Database): Promise<unknown[]> {
  const rows = await db
    .knex('inventories as i')
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
      'i.allocation_ratio',
      'i.created_at',
      'i.updated_at',
    )
    .orderBy(['rp.uuid', 'rc.name']);
  const providers = await db
    .knex('resource_providers')
    .select('uuid', 'generation')
    .orderBy('uuid');
  return [
    ...rows.map((r: Record<string, unknown>) => ({
      ...r,
      allocation_ratio: Number(r['allocation_ratio']),
      created_at: r['created_at'] !== null,
      updated_at: r['updated_at'] !== null,
    })),
    ...providers.map((p: Record<string, unknown>) => ({
      ...p,
      generation: Number(p['generation']),
    })),
  ];
}

const inv = (rest: string) => `/resource_providers/${RP}/inventories${rest}`;
const valid = (rest: string) => `/resource_providers/${RP_VALID}/inventories${rest}`;
const busy = (rest: string) => `/resource_providers/${RP_BUSY}/inventories${rest}`;

/** Create, change and delete on an idle provider, with every refusal on the way. */
const LIFECYCLE: Step[] = [
  { method: 'GET', path: inv(''), version: '1.15', status: 200 },
  {
    method: 'POST',
    path: inv(''),
    body: { resource_class: 'DISK_GB', total: 256, reserved: 512 },
    status: 400,
  },
  {
    method: 'POST',
    path: inv(''),
    version: '1.26',
    body: { resource_class: 'DISK_GB', total: 256, reserved: 512 },
    status: 400,
  },
  {
    method: 'POST',
    path: inv(''),
    body: { resource_class: 'NO_CLASS_14', total: 2048 },
    status: 400,
  },
  {
    method: 'POST',
    path: inv(''),
    version: '1.15',
    body: {
      resource_class: 'DISK_GB',
      total: 2048,
      reserved: 512,
      min_unit: 10,
      max_unit: 1024,
      step_size: 10,
      allocation_ratio: 1.5,
    },
    status: 201,
  },
  { method: 'GET', path: inv('/DISK_GB'), version: '1.15', status: 200 },
  {
    method: 'POST',
    path: inv(''),
    version: '1.23',
    body: { resource_class: 'DISK_GB', total: 2048 },
    status: 409,
  },
  {
    // SQLAlchemy's words, statement and parameters as the client wrote them (10.0, 2).
    method: 'POST',
    path: inv(''),
    body: '{"resource_class": "DISK_GB", "total": 10.0, "reserved": 1, "allocation_ratio": 2}',
    status: 409,
  },
  {
    method: 'POST',
    path: inv(''),
    body: { resource_class: 'VCPU', total: 8, allocation_ratio: 16 },
    status: 201,
  },
  {
    method: 'PUT',
    path: inv('/DISK_GB'),
    version: '1.14',
    body: { resource_provider_generation: 2, total: 2048, reserved: 1024 },
    status: 200,
  },
  {
    method: 'PUT',
    path: inv('/DISK_GB'),
    version: '1.23',
    body: { resource_provider_generation: 5, total: 2048 },
    status: 409,
  },
  {
    method: 'PUT',
    path: inv('/MEMORY_MB'),
    body: { resource_provider_generation: 3, total: 2048 },
    status: 400,
  },
  {
    method: 'PUT',
    path: inv('/HOUSE'),
    version: '1.23',
    body: { resource_provider_generation: 3, total: 2048 },
    status: 404,
  },
  {
    method: 'PUT',
    path: inv('/DISK_GB'),
    version: '1.25',
    body: { resource_provider_generation: 3, total: 512, reserved: 512 },
    status: 400,
  },
  {
    method: 'PUT',
    path: inv('/DISK_GB'),
    version: '1.26',
    body: { resource_provider_generation: 3, total: 512, reserved: 512 },
    status: 200,
  },
  {
    method: 'PUT',
    path: inv(''),
    version: '1.15',
    body: {
      resource_provider_generation: 4,
      inventories: {
        IPV4_ADDRESS: { total: 253 },
        DISK_GB: { total: 1024, allocation_ratio: 16.5, max_unit: 64 },
      },
    },
    status: 200,
  },
  { method: 'GET', path: inv(''), version: '1.15', status: 200 },
  {
    method: 'PUT',
    path: inv(''),
    version: '1.23',
    body: { resource_provider_generation: 99, inventories: { IPV4_ADDRESS: { total: 253 } } },
    status: 409,
  },
  {
    method: 'PUT',
    path: inv(''),
    version: '1.23',
    body: { resource_provider_generation: 5, inventories: { HOUSE: { total: 253 } } },
    status: 400,
  },
  {
    method: 'PUT',
    path: inv(''),
    body: {
      resource_provider_generation: 5,
      inventories: { IPV4_ADDRESS: { total: 253, reserved: 253 } },
    },
    status: 400,
  },
  {
    method: 'PUT',
    path: inv(''),
    version: '1.26',
    body: {
      resource_provider_generation: 5,
      inventories: { IPV4_ADDRESS: { total: 253, reserved: 512 } },
    },
    status: 400,
  },
  {
    // Capacity before the class: a bad capacity of an unknown class is a capacity error.
    method: 'PUT',
    path: inv(''),
    body: { resource_provider_generation: 5, inventories: { HOUSE: { total: 1, reserved: 5 } } },
    status: 400,
  },
  {
    method: 'PUT',
    path: inv(''),
    version: '1.26',
    body: {
      resource_provider_generation: 5,
      inventories: { IPV4_ADDRESS: { total: 253, allocation_ratio: 0 }, DISK_GB: { total: 10 } },
    },
    status: 200,
  },
  { method: 'GET', path: inv(''), status: 200 },
  { method: 'DELETE', path: inv('/IPV4_ADDRESS'), status: 204 },
  { method: 'DELETE', path: inv('/IPV4_ADDRESS'), version: '1.23', status: 404 },
  { method: 'DELETE', path: inv('/HOUSE'), status: 404 },
  { method: 'GET', path: inv('/IPV4_ADDRESS'), status: 404 },
  { method: 'DELETE', path: inv(''), version: '1.4', status: 405 },
  { method: 'DELETE', path: inv(''), version: '1.5', status: 204 },
  { method: 'DELETE', path: inv(''), version: '1.39', status: 204 },
  { method: 'GET', path: inv(''), version: '1.15', status: 200 },
  {
    method: 'PUT',
    path: inv(''),
    version: '1.15',
    body: { resource_provider_generation: 9, inventories: {} },
    status: 200,
  },
  { method: 'GET', path: `/resource_providers/${RP}`, status: 200 },
];

/** What placement's schemas refuse (jsonschema's words and the schema it prints), and the floats it keeps. */
const VALIDATION: Step[] = [
  { method: 'POST', path: valid(''), body: { resource_class: 'DISK_GB' }, status: 400 },
  { method: 'POST', path: valid(''), body: { resource_class: 'DISK_GB', total: -1 }, status: 400 },
  { method: 'POST', path: valid(''), body: { resource_class: 'bad_class', total: 1 }, status: 400 },
  { method: 'POST', path: valid(''), body: '{"foo": }', status: 400 },
  { method: 'POST', path: valid(''), body: '[]', status: 400 },
  ...(['total', 'reserved', 'min_unit', 'max_unit', 'step_size'] as const).flatMap((field) => [
    {
      method: 'POST' as const,
      path: valid(''),
      body: { resource_class: 'DISK_GB', total: 1024, [field]: 2147483648 },
      status: 400,
    },
    {
      method: 'POST' as const,
      path: valid(''),
      body: { resource_class: 'DISK_GB', total: 1024, reserved: 0, [field]: -1 },
      status: 400,
    },
  ]),
  {
    method: 'POST',
    path: valid(''),
    body: '{"resource_class": "DISK_GB", "total": 1024, "allocation_ratio": 3.40282e+39}',
    status: 400,
  },
  {
    method: 'POST',
    path: valid(''),
    body: { resource_class: 'DISK_GB', total: 1024, allocation_ratio: '2' },
    status: 400,
  },
  {
    method: 'POST',
    path: valid(''),
    body: { resource_class: 'DISK_GB', total: 1024, house: 'red' },
    status: 400,
  },
  {
    method: 'PUT',
    path: valid('/DISK_GB'),
    body: { house: 'red', car: 'blue' },
    status: 400,
  },
  {
    method: 'PUT',
    path: valid('/DISK_GB'),
    body: { total: 10 },
    status: 400,
  },
  {
    method: 'PUT',
    path: valid(''),
    body: { resource_provider_generation: 0, inventories: { DISK_GB: { total: 2147483648 } } },
    status: 400,
  },
  {
    method: 'PUT',
    path: valid(''),
    // patternProperties leaves other names to the handler: an unknown class.
    body: { resource_provider_generation: 0, inventories: { disk: { total: 1 } } },
    status: 400,
  },
  {
    method: 'PUT',
    path: valid(''),
    body: { resource_provider_generation: 0, inventories: [] },
    status: 400,
  },
  { method: 'PUT', path: valid(''), body: { inventories: {} }, status: 400 },
  {
    // Python floats come back as the client wrote them; ints stay ints.
    method: 'PUT',
    path: valid(''),
    version: '1.26',
    body: '{"resource_provider_generation": 0, "inventories": {"DISK_GB": {"total": 10.0, "reserved": 0.0, "allocation_ratio": 2}, "VCPU": {"total": 4, "allocation_ratio": 1.0}}}',
    status: 200,
  },
  {
    method: 'POST',
    path: valid(''),
    body: '{"resource_class": "MEMORY_MB", "total": 1e3, "resource_provider_generation": 99}',
    status: 201,
  },
  { method: 'GET', path: valid(''), status: 200 },
];

/** Every write route on a provider that does not exist. */
const MISSING_PROVIDER: Step[] = [
  {
    method: 'POST',
    path: `/resource_providers/${MISSING}/inventories`,
    body: { resource_class: 'VCPU', total: 1 },
    status: 404,
  },
  {
    method: 'PUT',
    path: `/resource_providers/${MISSING}/inventories`,
    version: '1.23',
    body: { resource_provider_generation: 0, inventories: {} },
    status: 404,
  },
  {
    method: 'PUT',
    path: `/resource_providers/${MISSING}/inventories/VCPU`,
    body: { resource_provider_generation: 0, total: 1 },
    status: 404,
  },
  { method: 'DELETE', path: `/resource_providers/${MISSING}/inventories/VCPU`, status: 404 },
  {
    method: 'DELETE',
    path: `/resource_providers/${MISSING}/inventories`,
    version: '1.5',
    status: 404,
  },
  {
    method: 'POST',
    path: `/resource_providers/${MISSING}/inventories`,
    body: '{"resource_class": ',
    status: 404,
  },
];

/** Before allocations: the inventory they will use. */
const BUSY_SETUP: Step[] = [
  {
    method: 'PUT',
    path: busy(''),
    body: {
      resource_provider_generation: 0,
      inventories: { VCPU: { total: 8 }, DISK_GB: { total: 100 }, MEMORY_MB: { total: 1024 } },
    },
    status: 200,
  },
];

/** With allocations of VCPU (1) and DISK_GB (50): in-use refusals, and over-capacity allowed. */
const BUSY: Step[] = [
  { method: 'DELETE', path: busy(''), version: '1.23', status: 409 },
  { method: 'DELETE', path: busy(''), version: '1.5', status: 409 },
  {
    method: 'PUT',
    path: busy(''),
    version: '1.23',
    body: { resource_provider_generation: 1, inventories: { MEMORY_MB: { total: 10 } } },
    status: 409,
  },
  {
    method: 'PUT',
    path: busy(''),
    version: '1.23',
    body: { resource_provider_generation: 1, inventories: { VCPU: { total: 8 } } },
    status: 409,
  },
  { method: 'DELETE', path: busy('/DISK_GB'), version: '1.23', status: 409 },
  { method: 'DELETE', path: busy('/MEMORY_MB'), status: 204 },
  {
    method: 'PUT',
    path: busy('/DISK_GB'),
    body: { resource_provider_generation: 2, total: 20 },
    status: 200,
  },
  {
    method: 'PUT',
    path: busy(''),
    body: {
      resource_provider_generation: 3,
      inventories: { VCPU: { total: 1, reserved: 0 }, DISK_GB: { total: 40, reserved: 1 } },
    },
    status: 200,
  },
  { method: 'GET', path: `/resource_providers/${RP_BUSY}/usages`, status: 200 },
  { method: 'GET', path: busy(''), status: 200 },
];

describe.runIf(available).each(testEngines())('inventory writes on %s', (engine) => {
  const fresh = freshDatabases();
  let mine: TestDatabase;
  let real: TestDatabase;
  let ours: RunningService;
  let theirs: RunningService;

  const onBoth = async (work: (db: Database) => Promise<void>) => {
    for (const d of [mine, real]) {
      const db = await d.open();
      try {
        await work(db);
      } finally {
        await db.close();
      }
    }
  };

  beforeAll(async () => {
    [mine, real] = [await fresh(engine, 'inv_ours'), await fresh(engine, 'inv_real')];
    await onBoth(async (db) => {
      await syncSchema(db, { target: 'zed' });
      await seedProvider(db, RP, 'idle');
      await seedProvider(db, RP_BUSY, 'busy');
      await seedProvider(db, RP_VALID, 'validated');
    });
    // Both sync the standard classes on start, in the same order: the same ids on both sides.
    [theirs, ours] = await Promise.all([startRealPlacement(real.url), startOurApi(mine.url, [])]);
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled([ours?.stop(), theirs?.stop()]);
  });

  it('create, change and delete, with every refusal on the way', async () => {
    const found = await compareSequence(ours.url, theirs.url, LIFECYCLE);
    expect(found.join('\n\n')).toBe('');
  });

  it("placement's schemas, their refusals and the floats a body keeps", async () => {
    const found = await compareSequence(ours.url, theirs.url, VALIDATION);
    expect(found.join('\n\n')).toBe('');
  });

  it('every write on a missing provider is a 404', async () => {
    const found = await compareSequence(ours.url, theirs.url, MISSING_PROVIDER);
    expect(found.join('\n\n')).toBe('');
  });

  it('inventory in use cannot go; capacity below the allocations can', async () => {
    const found = await compareSequence(ours.url, theirs.url, BUSY_SETUP);
    await onBoth(async (db) => {
      await seedAllocation(db, RP_BUSY, 'VCPU', 1);
      await seedAllocation(db, RP_BUSY, 'DISK_GB', 50);
    });
    found.push(...(await compareSequence(ours.url, theirs.url, BUSY)));
    expect(found.join('\n\n')).toBe('');
  });

  it('leaves the same rows behind', async () => {
    const states: unknown[][] = [];
    for (const d of [mine, real]) {
      const db = await d.open();
      try {
        states.push(await inventoryState(db));
      } finally {
        await db.close();
      }
    }
    expect(states[0]).toEqual(states[1]);
  });
});

/** The generation and total a PUT of the whole inventory left, or its refusal. */
interface PutOutcome {
  status: number;
  code?: string;
  generation?: number;
  total: number;
}

async function putTotal(base: string, generation: number, total: number): Promise<PutOutcome> {
  const r = await send(base, {
    method: 'PUT',
    path: inv(''),
    version: '1.39',
    body: { resource_provider_generation: generation, inventories: { VCPU: { total } } },
    status: 0,
  });
  const body = JSON.parse(r.body) as {
    resource_provider_generation?: number;
    errors?: { code: string }[];
  };
  return {
    status: r.status,
    code: body.errors?.[0]?.code,
    generation: body.resource_provider_generation,
    total,
  };
}

async function currentGeneration(base: string): Promise<number> {
  const r = await send(base, { method: 'GET', path: inv(''), status: 0 });
  return (JSON.parse(r.body) as { resource_provider_generation: number })
    .resource_provider_generation;
}

describeEach(testEngines().filter((e) => e !== 'sqlite'))(
  'two of our servers on one %s database',
  (engine) => {
    const fresh = freshDatabases();
    let database: TestDatabase;
    let servers: RunningService[] = [];
    let placement: RunningService | undefined;

    beforeAll(async () => {
      database = await fresh(engine, 'inv_race');
      const db = await database.open();
      try {
        await syncSchema(db, { target: 'zed' });
        await seedProvider(db, RP, 'raced');
      } finally {
        await db.close();
      }
      servers = [await startOurApi(database.url, []), await startOurApi(database.url, [])];
    }, 240_000);

    afterAll(async () => {
      await Promise.allSettled([...servers, placement].map((s) => s?.stop()));
    });

    it('same generation, many PUTs: exactly one wins each round, the rest are 409', async () => {
      let total = 1;
      for (let round = 0; round < 8; round++) {
        const generation = await currentGeneration(servers[round % 2]!.url);
        const outcomes = await Promise.all(
          Array.from({ length: 8 }, (_, i) => putTotal(servers[i % 2]!.url, generation, total++)),
        );
        const won = outcomes.filter((o) => o.status === 200);
        const lost = outcomes.filter((o) => o.status !== 200);
        expect(won, `round ${round}: ${JSON.stringify(outcomes)}`).toHaveLength(1);
        expect(won[0]!.generation).toBe(generation + 1);
        expect(
          lost.every((o) => o.status === 409 && o.code === 'placement.concurrent_update'),
        ).toBe(true);
        const r = await send(servers[(round + 1) % 2]!.url, {
          method: 'GET',
          path: inv('/VCPU'),
          status: 0,
        });
        expect((JSON.parse(r.body) as { total: number }).total).toBe(won[0]!.total);
      }
    });

    it('no lost update: the final generation counts the successes, the last one stays', async () => {
      const start = await currentGeneration(servers[0]!.url);
      const successes: PutOutcome[] = [];
      let next = 1000;
      const worker = async (w: number) => {
        const base = servers[w % 2]!.url;
        for (let i = 0; i < 12; i++) {
          const outcome = await putTotal(base, await currentGeneration(base), next++);
          expect([200, 409]).toContain(outcome.status);
          if (outcome.status === 200) successes.push(outcome);
        }
      };
      await Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));
      const generations = successes.map((s) => s.generation!).sort((a, b) => a - b);
      // Every success moved the generation by one, each to a generation no other success saw.
      expect(generations).toEqual(
        Array.from({ length: successes.length }, (_, i) => start + i + 1),
      );
      expect(await currentGeneration(servers[1]!.url)).toBe(start + successes.length);
      const last = successes.find((s) => s.generation === start + successes.length)!;
      const r = await send(servers[0]!.url, { method: 'GET', path: inv('/VCPU'), status: 0 });
      expect((JSON.parse(r.body) as { total: number }).total).toBe(last.total);
    });

    it.runIf(available)(
      'beside placement itself on the same database: no deadlock, no lost update',
      async () => {
        placement = await startRealPlacement(database.url);
        const bases = [servers[0]!.url, placement.url];
        const start = await currentGeneration(bases[0]!);
        const successes: PutOutcome[] = [];
        const answers: string[] = [];
        let next = 5000;
        const worker = async (w: number) => {
          const base = bases[w % 2]!;
          for (let i = 0; i < 12; i++) {
            const outcome = await putTotal(base, await currentGeneration(base), next++);
            answers.push(`${w % 2 ? 'placement' : 'ours'} ${outcome.status} ${outcome.code ?? ''}`);
            if (outcome.status === 200) successes.push(outcome);
          }
        };
        await Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));
        const odd = answers.filter((a) => !/ (200 |409 placement\.concurrent_update)$/.test(a));
        expect(odd).toEqual([]);
        const generations = successes.map((s) => s.generation!).sort((a, b) => a - b);
        expect(generations).toEqual(
          Array.from({ length: successes.length }, (_, i) => start + i + 1),
        );
        const last = successes.find((s) => s.generation === start + successes.length)!;
        const r = await send(bases[1]!, { method: 'GET', path: inv('/VCPU'), status: 0 });
        expect((JSON.parse(r.body) as { total: number }).total).toBe(last.total);
      },
    );
  },
);
