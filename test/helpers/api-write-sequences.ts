/**
 * The write sequences the differential write test runs: every write route
 * of the Placement API, at the microversions where its behaviour changes,
 * with the validation errors, generation conflicts and in-use or capacity
 * refusals a client meets, and the reshape nova does when a flat compute
 * node's VGPUs move to child providers. Chosen from placement's handlers
 * and its functional tests; each step states the status placement 8.0.0
 * answers, which the harness checks on the real side.
 */
import type { Reply, Sequence, SequenceIds, Step, Vars } from './api-writes.js';
import { pick } from './api-writes.js';
import { pyFloat } from './python-json.js';

type Options = Omit<Partial<Step>, 'method' | 'path' | 'name' | 'status'>;

const req =
  (method: Step['method']) =>
  (name: string, path: Step['path'], status: number, o: Options = {}): Step => ({
    name,
    method,
    path,
    status,
    ...o,
  });
const GET = req('GET');
const POST = req('POST');
const PUT = req('PUT');
const DELETE = req('DELETE');

const rpPath = (ids: SequenceIds, key: string, rest = '') =>
  `/resource_providers/${ids.uuid(key)}${rest}`;

/** The variable a provider's generation is tracked in, when a sequence does not spell it out. */
const gen = (key: string) => `g_${key}`;

/** Keeps a provider's generation from a successful answer that carries it. */
const trackGeneration = (key: string) => ({
  [gen(key)]: (r: Reply) => {
    if (r.status !== 200) return undefined;
    const body = r.json as { generation?: number; resource_provider_generation?: number };
    return body.resource_provider_generation ?? body.generation;
  },
});

/** POST a provider at 1.20 (200 with its body), optionally under a parent. */
function createProvider(ids: SequenceIds, key: string, parent?: string): Step {
  return POST(`create provider ${key}`, '/resource_providers', 200, {
    version: '1.20',
    body: {
      name: ids.name(key),
      uuid: ids.uuid(key),
      ...(parent ? { parent_provider_uuid: ids.uuid(parent) } : {}),
    },
    capture: trackGeneration(key),
  });
}

/** GET a provider, to learn its generation after writes that moved it (allocations, reshapes). */
function readGeneration(ids: SequenceIds, key: string): Step {
  return GET(`generation of ${key}`, rpPath(ids, key), 200, {
    version: '1.14',
    capture: trackGeneration(key),
  });
}

type Inventory = Record<string, number | ReturnType<typeof pyFloat>>;

/** PUT a provider's whole inventory, at `generation` or (by default) the one last seen. */
function setInventories(
  ids: SequenceIds,
  key: string,
  generation: number | 'tracked',
  inventories: Record<string, Inventory>,
  o: Options & { status?: number } = {},
): Step {
  return PUT(`set inventories of ${key}`, rpPath(ids, key, '/inventories'), o.status ?? 200, {
    body: (v: Vars) => ({
      resource_provider_generation: generation === 'tracked' ? v[gen(key)] : generation,
      inventories,
    }),
    capture: trackGeneration(key),
    ...o,
  });
}

/** The dict-form (1.12+) allocation body for one consumer. */
function allocationBody(
  ids: SequenceIds,
  on: Record<string, Record<string, number>>,
  extra: Record<string, unknown> = {},
) {
  return {
    allocations: Object.fromEntries(
      Object.entries(on).map(([key, resources]) => [ids.uuid(key), { resources }]),
    ),
    project_id: ids.uuid('project'),
    user_id: ids.uuid('user'),
    ...extra,
  };
}

const COMPUTE: Record<string, Inventory> = {
  VCPU: { total: 16, allocation_ratio: pyFloat(4) },
  MEMORY_MB: { total: 8192, reserved: 512, allocation_ratio: 1.5 },
  DISK_GB: { total: 200, min_unit: 5, step_size: 5, max_unit: 100 },
};

// --- Resource providers ----------------------------------------------------

const providersCreate: Sequence = {
  name: 'providers: POST at 1.0, 1.14 and 1.20; duplicates and validation',
  steps: (ids) => [
    POST('create at 1.0 (201, no body)', '/resource_providers', 201, {
      body: { name: ids.name('a'), uuid: ids.uuid('a') },
    }),
    GET('read it at 1.0', rpPath(ids, 'a'), 200),
    GET('read it at 1.15 (caching headers)', rpPath(ids, 'a'), 200, { version: '1.15' }),
    POST('same name, other uuid', '/resource_providers', 409, {
      body: { name: ids.name('a'), uuid: ids.uuid('other') },
    }),
    POST('same uuid, other name', '/resource_providers', 409, {
      version: '1.23',
      body: { name: ids.name('other'), uuid: ids.uuid('a') },
    }),
    POST('no uuid: placement makes one', '/resource_providers', 201, {
      body: { name: ids.name('generated') },
      capture: { generated: pick.locationTail },
    }),
    GET('the generated one', (v) => `/resource_providers/${v['generated']}`, 200, {
      version: '1.14',
    }),
    POST('create at 1.20 (200 with body)', '/resource_providers', 200, {
      version: '1.20',
      body: { name: ids.name('b'), uuid: ids.uuid('b') },
    }),
    POST('uuid without dashes', '/resource_providers', 200, {
      version: '1.20',
      body: { name: ids.name('c'), uuid: ids.uuid('c').replace(/-/g, '') },
    }),
    POST('an existing uuid without dashes', '/resource_providers', 409, {
      version: '1.20',
      body: { name: ids.name('c2'), uuid: ids.uuid('b').replace(/-/g, '') },
    }),
    POST('no name', '/resource_providers', 400, { body: { uuid: ids.uuid('d') } }),
    POST('name of 201 characters', '/resource_providers', 400, {
      body: { name: `${ids.name('long')}-`.padEnd(201, 'x') },
    }),
    POST('name of 200 characters', '/resource_providers', 200, {
      version: '1.20',
      body: { name: `${ids.name('long')}-`.padEnd(200, 'x') },
      capture: { long: (r) => (r.json as { uuid: string }).uuid },
    }),
    POST('a unicode name', '/resource_providers', 200, {
      version: '1.20',
      body: { name: `${ids.name('unicode')}-café-☃`, uuid: ids.uuid('unicode') },
    }),
    POST('a bad uuid', '/resource_providers', 400, {
      body: { name: ids.name('bad'), uuid: 'not-a-uuid' },
    }),
    POST('an unknown property', '/resource_providers', 400, {
      body: { name: ids.name('bad'), colour: 'blue' },
    }),
    POST('malformed JSON', '/resource_providers', 400, {
      rawBody: '{"name": ',
      headers: { 'content-type': 'application/json' },
    }),
    POST('text/plain', '/resource_providers', 415, {
      body: { name: ids.name('plain') },
      headers: { 'content-type': 'text/plain' },
    }),
    POST('no content-type', '/resource_providers', 400, {
      body: { name: ids.name('plain') },
      headers: { 'content-type': null },
    }),
    POST('a parent at 1.13', '/resource_providers', 400, {
      version: '1.13',
      body: { name: ids.name('child'), parent_provider_uuid: ids.uuid('a') },
    }),
    POST('a child at 1.14', '/resource_providers', 201, {
      version: '1.14',
      body: {
        name: ids.name('child'),
        uuid: ids.uuid('child'),
        parent_provider_uuid: ids.uuid('a'),
      },
    }),
    POST('a grandchild at 1.20', '/resource_providers', 200, {
      version: '1.20',
      body: {
        name: ids.name('grandchild'),
        uuid: ids.uuid('grandchild'),
        parent_provider_uuid: ids.uuid('child'),
      },
    }),
    POST('a parent that does not exist', '/resource_providers', 400, {
      version: '1.14',
      body: { name: ids.name('orphan'), parent_provider_uuid: ids.uuid('nobody') },
    }),
    POST('parent_provider_uuid null', '/resource_providers', 200, {
      version: '1.20',
      body: { name: ids.name('root2'), uuid: ids.uuid('root2'), parent_provider_uuid: null },
    }),
    GET('the tree', `/resource_providers?in_tree=${ids.uuid('grandchild')}`, 200, {
      version: '1.14',
    }),
    GET(
      'by name',
      `/resource_providers?name=${encodeURIComponent(`${ids.name('unicode')}-café-☃`)}`,
      200,
      {
        version: '1.20',
      },
    ),
  ],
};

const providersUpdate: Sequence = {
  name: 'providers: PUT names and parents, re-parenting at 1.37, loops',
  steps: (ids) => [
    createProvider(ids, 'root1'),
    createProvider(ids, 'root2'),
    createProvider(ids, 'child', 'root1'),
    createProvider(ids, 'grandchild', 'child'),
    PUT('rename at 1.0', rpPath(ids, 'root2'), 200, { body: { name: ids.name('root2-renamed') } }),
    PUT('rename to a taken name', rpPath(ids, 'root2'), 409, {
      version: '1.23',
      body: { name: ids.name('root1') },
    }),
    PUT('a parent at 1.13', rpPath(ids, 'root2'), 400, {
      version: '1.13',
      body: { name: ids.name('root2'), parent_provider_uuid: ids.uuid('root1') },
    }),
    PUT('give a root a parent at 1.14', rpPath(ids, 'root2'), 200, {
      version: '1.14',
      body: { name: ids.name('root2'), parent_provider_uuid: ids.uuid('root1') },
    }),
    PUT('re-parent at 1.36', rpPath(ids, 'root2'), 400, {
      version: '1.36',
      body: { name: ids.name('root2'), parent_provider_uuid: ids.uuid('child') },
    }),
    PUT('un-parent at 1.36', rpPath(ids, 'root2'), 400, {
      version: '1.36',
      body: { name: ids.name('root2'), parent_provider_uuid: null },
    }),
    PUT('re-parent at 1.37', rpPath(ids, 'root2'), 200, {
      version: '1.37',
      body: { name: ids.name('root2'), parent_provider_uuid: ids.uuid('child') },
    }),
    PUT('un-parent at 1.37', rpPath(ids, 'root2'), 200, {
      version: '1.37',
      body: { name: ids.name('root2'), parent_provider_uuid: null },
    }),
    PUT('parent of itself', rpPath(ids, 'child'), 400, {
      version: '1.37',
      body: { name: ids.name('child'), parent_provider_uuid: ids.uuid('child') },
    }),
    PUT('parent under its own descendant', rpPath(ids, 'child'), 400, {
      version: '1.37',
      body: { name: ids.name('child'), parent_provider_uuid: ids.uuid('grandchild') },
    }),
    PUT('move a subtree to another root', rpPath(ids, 'child'), 200, {
      version: '1.37',
      body: { name: ids.name('child'), parent_provider_uuid: ids.uuid('root2') },
    }),
    GET('the grandchild follows its new root', rpPath(ids, 'grandchild'), 200, {
      version: '1.37',
    }),
    GET('the new tree', `/resource_providers?in_tree=${ids.uuid('root2')}`, 200, {
      version: '1.14',
    }),
    GET('the old tree', `/resource_providers?in_tree=${ids.uuid('root1')}`, 200, {
      version: '1.14',
    }),
    PUT('a parent that does not exist', rpPath(ids, 'root1'), 400, {
      version: '1.14',
      body: { name: ids.name('root1'), parent_provider_uuid: ids.uuid('nobody') },
    }),
    PUT('a provider that does not exist', rpPath(ids, 'nobody'), 404, {
      version: '1.14',
      body: { name: ids.name('nobody') },
    }),
    PUT('uuid in the body', rpPath(ids, 'root1'), 400, {
      version: '1.14',
      body: { name: ids.name('root1'), uuid: ids.uuid('root1') },
    }),
    PUT('no name', rpPath(ids, 'root1'), 400, { version: '1.14', body: {} }),
    PUT('the same name at 1.15 (caching headers)', rpPath(ids, 'root1'), 200, {
      version: '1.15',
      body: { name: ids.name('root1') },
    }),
    PUT('text/plain', rpPath(ids, 'root1'), 415, {
      body: { name: ids.name('root1') },
      headers: { 'content-type': 'text/plain' },
    }),
  ],
};

const providersDelete: Sequence = {
  name: 'providers: DELETE refused for parents and providers in use',
  steps: (ids) => [
    createProvider(ids, 'parent'),
    createProvider(ids, 'child', 'parent'),
    setInventories(ids, 'child', 0, { VCPU: { total: 4 } }),
    PUT('allocate on the child', `/allocations/${ids.uuid('consumer')}`, 204, {
      version: '1.12',
      body: allocationBody(ids, { child: { VCPU: 1 } }),
    }),
    DELETE('a parent', rpPath(ids, 'parent'), 409, { version: '1.23' }),
    DELETE('a provider in use', rpPath(ids, 'child'), 409, { version: '1.23' }),
    DELETE('a provider in use, below 1.23', rpPath(ids, 'child'), 409),
    DELETE('free it', `/allocations/${ids.uuid('consumer')}`, 204),
    DELETE('the child', rpPath(ids, 'child'), 204),
    GET('it is gone', rpPath(ids, 'child'), 404),
    DELETE('again', rpPath(ids, 'child'), 404),
    PUT('a trait for the parent', `/traits/${ids.custom('gold')}`, 201, { version: '1.6' }),
    PUT('traits on the parent', rpPath(ids, 'parent', '/traits'), 200, {
      version: '1.6',
      body: { resource_provider_generation: 0, traits: [ids.custom('gold'), 'HW_CPU_X86_AVX2'] },
    }),
    PUT('aggregates on the parent', rpPath(ids, 'parent', '/aggregates'), 200, {
      version: '1.19',
      body: { resource_provider_generation: 1, aggregates: [ids.uuid('agg')] },
    }),
    setInventories(ids, 'parent', 2, { DISK_GB: { total: 100 } }),
    DELETE('the parent, with traits, aggregates and inventory', rpPath(ids, 'parent'), 204),
    GET('its traits are gone', `/traits?name=in:${ids.custom('gold')}&associated=true`, 200, {
      version: '1.6',
    }),
    DELETE('not a uuid', '/resource_providers/not-a-uuid', 404),
  ],
};

// --- Inventories -----------------------------------------------------------

const inventoriesCollection: Sequence = {
  name: 'inventories: PUT the collection, validation, generations, in use',
  steps: (ids) => [
    createProvider(ids, 'cn'),
    setInventories(ids, 'cn', 0, COMPUTE),
    GET('read them', rpPath(ids, 'cn', '/inventories'), 200),
    GET('one at 1.15', rpPath(ids, 'cn', '/inventories/VCPU'), 200, { version: '1.15' }),
    setInventories(ids, 'cn', 0, COMPUTE, { status: 409, version: '1.23' }),
    setInventories(ids, 'cn', 'tracked', { CUSTOM_NOT_THERE: { total: 1 } }, { status: 400 }),
    setInventories(ids, 'cn', 'tracked', { vcpu: { total: 1 } }, { status: 400 }),
    setInventories(ids, 'cn', 'tracked', { VCPU: { total: 0 } }, { status: 400 }),
    setInventories(ids, 'cn', 'tracked', { VCPU: { total: 4, reserved: 5 } }, { status: 400 }),
    setInventories(
      ids,
      'cn',
      'tracked',
      { VCPU: { total: 4, reserved: 4 } },
      {
        status: 400,
        version: '1.25',
      },
    ),
    setInventories(ids, 'cn', 'tracked', { VCPU: { total: 2147483648 } }, { status: 400 }),
    setInventories(
      ids,
      'cn',
      'tracked',
      { VCPU: { total: 4, allocation_ratio: -1 } },
      {
        status: 400,
      },
    ),
    setInventories(
      ids,
      'cn',
      'tracked',
      { VCPU: { total: 4, allocation_ratio: 0 } },
      {
        status: 400,
      },
    ),
    // Placement does not check min_unit against max_unit.
    setInventories(ids, 'cn', 'tracked', { VCPU: { total: 4, min_unit: 3, max_unit: 2 } }),
    PUT('allocation_ratio as a string', rpPath(ids, 'cn', '/inventories'), 400, {
      body: (v) => ({
        resource_provider_generation: v[gen('cn')],
        inventories: { VCPU: { total: 4, allocation_ratio: '2' } },
      }),
    }),
    PUT('no generation', rpPath(ids, 'cn', '/inventories'), 400, {
      body: { inventories: { VCPU: { total: 4 } } },
    }),
    PUT('generation as a string', rpPath(ids, 'cn', '/inventories'), 400, {
      body: { resource_provider_generation: '1', inventories: { VCPU: { total: 4 } } },
    }),
    PUT('no inventories', rpPath(ids, 'cn', '/inventories'), 400, {
      body: { resource_provider_generation: 1 },
    }),
    setInventories(ids, 'cn', 'tracked', { ...COMPUTE, VCPU: { total: pyFloat(16) } }),
    GET('a total sent as 16.0', rpPath(ids, 'cn', '/inventories/VCPU'), 200),
    setInventories(
      ids,
      'cn',
      'tracked',
      { ...COMPUTE, VCPU: { total: 16, reserved: 16 } },
      {
        version: '1.26',
      },
    ),
    setInventories(ids, 'cn', 'tracked', COMPUTE),
    PUT('allocate', `/allocations/${ids.uuid('consumer')}`, 204, {
      version: '1.12',
      body: allocationBody(ids, { cn: { VCPU: 8, DISK_GB: 50 } }),
    }),
    readGeneration(ids, 'cn'),
    setInventories(
      ids,
      'cn',
      'tracked',
      { MEMORY_MB: COMPUTE['MEMORY_MB']!, DISK_GB: COMPUTE['DISK_GB']! },
      { status: 409, version: '1.23' },
    ),
    setInventories(ids, 'cn', 'tracked', { ...COMPUTE, VCPU: { total: 1 } }, { version: '1.23' }),
    GET('usages beyond the new total', rpPath(ids, 'cn', '/usages'), 200),
    setInventories(ids, 'cn', 'tracked', { ...COMPUTE, DISK_GB: { total: 200, step_size: 7 } }),
    GET('allocations off the new step_size', rpPath(ids, 'cn', '/allocations'), 200),
    setInventories(ids, 'nobody', 0, COMPUTE, { status: 404 }),
    PUT('text/plain', rpPath(ids, 'cn', '/inventories'), 415, {
      body: { resource_provider_generation: 9, inventories: {} },
      headers: { 'content-type': 'text/plain' },
    }),
  ],
};

const inventoriesOne: Sequence = {
  name: 'inventories: POST one, PUT one, DELETE one and all (1.5)',
  steps: (ids) => [
    createProvider(ids, 'cn'),
    POST('add VCPU', rpPath(ids, 'cn', '/inventories'), 201, {
      body: { resource_class: 'VCPU', total: 8, allocation_ratio: pyFloat(2) },
    }),
    POST('add VCPU again', rpPath(ids, 'cn', '/inventories'), 409, {
      body: { resource_class: 'VCPU', total: 8 },
    }),
    POST('an unknown class', rpPath(ids, 'cn', '/inventories'), 400, {
      body: { resource_class: 'CUSTOM_NOT_THERE', total: 8 },
    }),
    POST('no capacity', rpPath(ids, 'cn', '/inventories'), 400, {
      body: { resource_class: 'DISK_GB', total: 100, reserved: 100 },
    }),
    POST('no class', rpPath(ids, 'cn', '/inventories'), 400, { body: { total: 100 } }),
    POST('with a stale generation (ignored)', rpPath(ids, 'cn', '/inventories'), 201, {
      body: { resource_class: 'MEMORY_MB', total: 1024, resource_provider_generation: 0 },
    }),
    GET('the provider', rpPath(ids, 'cn'), 200, { capture: { g: pick.generation } }),
    PUT('update VCPU', rpPath(ids, 'cn', '/inventories/VCPU'), 200, {
      body: (v) => ({ resource_provider_generation: v['g'], total: 16, max_unit: 8 }),
    }),
    PUT('update VCPU with a stale generation', rpPath(ids, 'cn', '/inventories/VCPU'), 409, {
      version: '1.23',
      body: (v) => ({ resource_provider_generation: v['g'], total: 32 }),
    }),
    PUT('update a class it has no inventory of', rpPath(ids, 'cn', '/inventories/DISK_GB'), 400, {
      body: { resource_provider_generation: 3, total: 32 },
    }),
    PUT('a class in the body', rpPath(ids, 'cn', '/inventories/VCPU'), 400, {
      body: { resource_provider_generation: 3, total: 32, resource_class: 'VCPU' },
    }),
    PUT('no generation', rpPath(ids, 'cn', '/inventories/VCPU'), 400, { body: { total: 32 } }),
    PUT('reserved equal to total at 1.26', rpPath(ids, 'cn', '/inventories/MEMORY_MB'), 200, {
      version: '1.26',
      body: { resource_provider_generation: 3, total: 1024, reserved: 1024 },
    }),
    GET('one inventory', rpPath(ids, 'cn', '/inventories/VCPU'), 200),
    GET('one it does not have', rpPath(ids, 'cn', '/inventories/DISK_GB'), 404),
    DELETE('one it does not have', rpPath(ids, 'cn', '/inventories/DISK_GB'), 404),
    PUT('allocate', `/allocations/${ids.uuid('consumer')}`, 204, {
      version: '1.12',
      body: allocationBody(ids, { cn: { VCPU: 2 } }),
    }),
    DELETE('VCPU in use', rpPath(ids, 'cn', '/inventories/VCPU'), 409, { version: '1.23' }),
    DELETE('all at 1.4', rpPath(ids, 'cn', '/inventories'), 405, { version: '1.4' }),
    DELETE('all, in use, at 1.5', rpPath(ids, 'cn', '/inventories'), 409, { version: '1.23' }),
    DELETE('free it', `/allocations/${ids.uuid('consumer')}`, 204),
    DELETE('VCPU', rpPath(ids, 'cn', '/inventories/VCPU'), 204),
    GET('what is left', rpPath(ids, 'cn', '/inventories'), 200),
    POST('add DISK_GB', rpPath(ids, 'cn', '/inventories'), 201, {
      version: '1.15',
      body: { resource_class: 'DISK_GB', total: 100, step_size: 10 },
    }),
    DELETE('all at 1.5', rpPath(ids, 'cn', '/inventories'), 204, { version: '1.5' }),
    GET('none left', rpPath(ids, 'cn', '/inventories'), 200),
    DELETE('all of a provider that does not exist', rpPath(ids, 'nobody', '/inventories'), 404, {
      version: '1.5',
    }),
    POST('on a provider that does not exist', rpPath(ids, 'nobody', '/inventories'), 404, {
      body: { resource_class: 'VCPU', total: 8 },
    }),
  ],
};

// --- Allocations -----------------------------------------------------------

const listForm = (ids: SequenceIds, key: string, resources: Record<string, number>) => ({
  resource_provider: { uuid: ids.uuid(key) },
  resources,
});

const allocationsListForm: Sequence = {
  name: 'allocations: the list form below 1.12, project and user from 1.8',
  steps: (ids) => {
    const c = `/allocations/${ids.uuid('consumer')}`;
    return [
      createProvider(ids, 'cn'),
      setInventories(ids, 'cn', 0, COMPUTE),
      PUT('at 1.0, no project or user', c, 204, {
        body: { allocations: [listForm(ids, 'cn', { VCPU: 1, MEMORY_MB: 256 })] },
      }),
      GET('read at 1.0', c, 200),
      GET('read at 1.12 (the incomplete consumer)', c, 200, { version: '1.12' }),
      PUT('at 1.8 without project', c, 400, {
        version: '1.8',
        body: { allocations: [listForm(ids, 'cn', { VCPU: 1 })] },
      }),
      PUT('at 1.8 with project and user', c, 204, {
        version: '1.8',
        body: {
          allocations: [listForm(ids, 'cn', { VCPU: 2, DISK_GB: 10 })],
          project_id: ids.uuid('project'),
          user_id: ids.uuid('user'),
        },
      }),
      GET('read at 1.12', c, 200, { version: '1.12' }),
      PUT('at 1.7 with project', c, 400, {
        version: '1.7',
        body: { allocations: [listForm(ids, 'cn', { VCPU: 1 })], project_id: ids.uuid('project') },
      }),
      PUT('zero of a class', c, 400, { body: { allocations: [listForm(ids, 'cn', { VCPU: 0 })] } }),
      PUT('an unknown class', c, 400, {
        body: { allocations: [listForm(ids, 'cn', { CUSTOM_NOT_THERE: 1 })] },
      }),
      PUT('a class the provider has no inventory of', c, 409, {
        body: { allocations: [listForm(ids, 'cn', { VGPU: 1 })] },
      }),
      PUT('a provider that does not exist', c, 400, {
        body: { allocations: [listForm(ids, 'nobody', { VCPU: 1 })] },
      }),
      PUT('an empty list', c, 400, { body: { allocations: [] } }),
      PUT('the dict form at 1.11', c, 400, {
        version: '1.11',
        body: allocationBody(ids, { cn: { VCPU: 1 } }),
      }),
      PUT('the same provider twice', c, 204, {
        version: '1.8',
        body: {
          allocations: [listForm(ids, 'cn', { VCPU: 1 }), listForm(ids, 'cn', { MEMORY_MB: 512 })],
          project_id: ids.uuid('project'),
          user_id: ids.uuid('user'),
        },
      }),
      GET('merged', c, 200, { version: '1.12' }),
      GET('by provider', rpPath(ids, 'cn', '/allocations'), 200),
      PUT('malformed JSON', c, 400, {
        rawBody: '{"allocations": [',
        headers: { 'content-type': 'application/json' },
      }),
      DELETE('delete', c, 204),
      DELETE('delete again', c, 404),
      GET('none left', c, 200),
      GET('usages', rpPath(ids, 'cn', '/usages'), 200),
    ];
  },
};

const allocationsDictForm: Sequence = {
  name: 'allocations: the dict form from 1.12, on two providers',
  steps: (ids) => {
    const c = `/allocations/${ids.uuid('consumer')}`;
    return [
      createProvider(ids, 'cn'),
      createProvider(ids, 'storage'),
      setInventories(ids, 'cn', 0, COMPUTE),
      setInventories(ids, 'storage', 0, { DISK_GB: { total: 1000, reserved: 100 } }),
      PUT('on two providers', c, 204, {
        version: '1.12',
        body: allocationBody(ids, { cn: { VCPU: 2, MEMORY_MB: 1024 }, storage: { DISK_GB: 100 } }),
      }),
      GET('read at 1.12', c, 200, { version: '1.12' }),
      GET('read at 1.15', c, 200, { version: '1.15' }),
      PUT('the list form at 1.12', c, 400, {
        version: '1.12',
        body: {
          allocations: [listForm(ids, 'cn', { VCPU: 1 })],
          project_id: ids.uuid('project'),
          user_id: ids.uuid('user'),
        },
      }),
      PUT('no user', c, 400, {
        version: '1.12',
        body: {
          allocations: { [ids.uuid('cn')]: { resources: { VCPU: 1 } } },
          project_id: ids.uuid('project'),
        },
      }),
      PUT('no allocations', c, 400, {
        version: '1.12',
        body: allocationBody(ids, {}),
      }),
      PUT('a provider key that is not a uuid', c, 400, {
        version: '1.12',
        body: {
          allocations: { 'not-a-uuid': { resources: { VCPU: 1 } } },
          project_id: 'p',
          user_id: 'u',
        },
      }),
      PUT('a generation per provider (ignored)', c, 204, {
        version: '1.12',
        body: {
          allocations: { [ids.uuid('cn')]: { resources: { VCPU: 4 }, generation: 99 } },
          project_id: ids.uuid('project'),
          user_id: ids.uuid('user'),
        },
      }),
      GET('only the compute node now', c, 200, { version: '1.12' }),
      GET('storage usages', rpPath(ids, 'storage', '/usages'), 200),
      GET('project usages', `/usages?project_id=${ids.uuid('project')}`, 200, { version: '1.9' }),
      PUT('another project and user', c, 204, {
        version: '1.12',
        body: {
          allocations: { [ids.uuid('cn')]: { resources: { VCPU: 4 } } },
          project_id: ids.uuid('project2'),
          user_id: ids.uuid('user2'),
        },
      }),
      GET('moved to the other project', c, 200, { version: '1.12' }),
      GET('old project usages', `/usages?project_id=${ids.uuid('project')}`, 200, {
        version: '1.9',
      }),
      GET(
        'new project usages',
        `/usages?project_id=${ids.uuid('project2')}&user_id=${ids.uuid('user2')}`,
        200,
        {
          version: '1.9',
        },
      ),
      DELETE('delete at 1.12', c, 204, { version: '1.12' }),
      GET('provider allocations', rpPath(ids, 'cn', '/allocations'), 200),
    ];
  },
};

const consumerGenerations: Sequence = {
  name: 'allocations: consumer generations from 1.28',
  steps: (ids) => {
    const c = `/allocations/${ids.uuid('consumer')}`;
    const body = (g: unknown, on: Record<string, Record<string, number>> = { cn: { VCPU: 1 } }) =>
      allocationBody(ids, on, { consumer_generation: g });
    return [
      createProvider(ids, 'cn'),
      setInventories(ids, 'cn', 0, COMPUTE),
      PUT('a new consumer, generation null', c, 204, { version: '1.28', body: body(null) }),
      PUT('null again: it exists now', c, 409, { version: '1.28', body: body(null) }),
      GET('its generation', c, 200, { version: '1.28', capture: { cg: pick.consumerGeneration } }),
      PUT('with its generation', c, 204, {
        version: '1.28',
        body: (v) => body(v['cg'], { cn: { VCPU: 2 } }),
      }),
      PUT('with the old generation', c, 409, {
        version: '1.28',
        body: (v) => body(v['cg'], { cn: { VCPU: 3 } }),
      }),
      PUT('without consumer_generation', c, 400, {
        version: '1.28',
        body: allocationBody(ids, { cn: { VCPU: 1 } }),
      }),
      PUT('consumer_generation at 1.27', c, 400, { version: '1.27', body: body(2) }),
      PUT('a new consumer with a generation', `/allocations/${ids.uuid('consumer2')}`, 409, {
        version: '1.28',
        body: body(5),
      }),
      GET('generation 2', c, 200, { version: '1.28' }),
      PUT('empty allocations remove them', c, 204, {
        version: '1.28',
        body: {
          allocations: {},
          project_id: ids.uuid('project'),
          user_id: ids.uuid('user'),
          consumer_generation: 2,
        },
      }),
      GET('no allocations, no consumer', c, 200, { version: '1.28' }),
      PUT('null works again: the consumer went with its allocations', c, 204, {
        version: '1.28',
        body: body(null),
      }),
      DELETE('a consumer that does not exist', `/allocations/${ids.uuid('consumer2')}`, 404, {
        version: '1.28',
      }),
      GET('by provider at 1.28', rpPath(ids, 'cn', '/allocations'), 200, { version: '1.28' }),
      DELETE('delete at 1.28', c, 204, { version: '1.28' }),
    ];
  },
};

const mappings: Sequence = {
  name: 'allocations: mappings from 1.34',
  steps: (ids) => {
    const c = `/allocations/${ids.uuid('consumer')}`;
    return [
      createProvider(ids, 'cn'),
      createProvider(ids, 'pf', 'cn'),
      setInventories(ids, 'cn', 0, COMPUTE),
      setInventories(ids, 'pf', 0, { NET_BW_EGR_KILOBIT_PER_SEC: { total: 10000 } }),
      // The group-name pattern is a patternProperties: a key it does not match passes.
      PUT('with mappings at 1.34, an empty group name', c, 204, {
        version: '1.34',
        body: allocationBody(
          ids,
          { cn: { VCPU: 1 }, pf: { NET_BW_EGR_KILOBIT_PER_SEC: 1000 } },
          {
            consumer_generation: null,
            mappings: { port_1: [ids.uuid('pf')], '': [ids.uuid('cn')] },
          },
        ),
      }),
      PUT('with mappings at 1.34, proper group names', c, 204, {
        version: '1.34',
        body: allocationBody(
          ids,
          { cn: { VCPU: 1 }, pf: { NET_BW_EGR_KILOBIT_PER_SEC: 1000 } },
          { consumer_generation: 1, mappings: { 'port-1': [ids.uuid('pf')] } },
        ),
      }),
      GET('mappings are not stored', c, 200, { version: '1.34' }),
      PUT('mappings at 1.33', c, 400, {
        version: '1.33',
        body: allocationBody(
          ids,
          { cn: { VCPU: 1 } },
          { consumer_generation: 2, mappings: { x: [ids.uuid('cn')] } },
        ),
      }),
      PUT('an empty mapping', c, 400, {
        version: '1.34',
        body: allocationBody(
          ids,
          { cn: { VCPU: 1 } },
          { consumer_generation: 2, mappings: { x: [] } },
        ),
      }),
      PUT('a mapping that is not a uuid', c, 400, {
        version: '1.34',
        body: allocationBody(
          ids,
          { cn: { VCPU: 1 } },
          { consumer_generation: 2, mappings: { x: ['nope'] } },
        ),
      }),
      POST('POST with mappings', '/allocations', 204, {
        version: '1.34',
        body: {
          [ids.uuid('consumer2')]: allocationBody(
            ids,
            { pf: { NET_BW_EGR_KILOBIT_PER_SEC: 500 } },
            { consumer_generation: null, mappings: { 'port-2': [ids.uuid('pf')] } },
          ),
        },
      }),
      GET('the second consumer', `/allocations/${ids.uuid('consumer2')}`, 200, { version: '1.34' }),
    ];
  },
};

const consumerTypes: Sequence = {
  name: 'allocations: consumer types from 1.38',
  steps: (ids) => {
    const c = `/allocations/${ids.uuid('consumer')}`;
    const at138 = (type: unknown, g: unknown, vcpu = 1) =>
      allocationBody(ids, { cn: { VCPU: vcpu } }, { consumer_generation: g, consumer_type: type });
    return [
      createProvider(ids, 'cn'),
      setInventories(ids, 'cn', 0, COMPUTE),
      PUT('no consumer_type at 1.38', c, 400, {
        version: '1.38',
        body: allocationBody(ids, { cn: { VCPU: 1 } }, { consumer_generation: null }),
      }),
      PUT('an INSTANCE', c, 204, { version: '1.38', body: at138('INSTANCE', null) }),
      GET('its type', c, 200, { version: '1.38' }),
      GET('not shown at 1.37', c, 200, { version: '1.37' }),
      PUT('consumer_type at 1.37', c, 400, { version: '1.37', body: at138('INSTANCE', 1) }),
      PUT('a lower-case type', c, 400, { version: '1.38', body: at138('instance', 1) }),
      PUT('now a MIGRATION', c, 204, { version: '1.38', body: at138('MIGRATION', 1, 2) }),
      GET('the new type', c, 200, { version: '1.38' }),
      PUT('a new type name', `/allocations/${ids.uuid('consumer2')}`, 204, {
        version: '1.38',
        body: at138(`TYPE_${ids.tag.toUpperCase()}`, null),
      }),
      PUT('written at 1.28 keeps its type', c, 204, {
        version: '1.28',
        body: allocationBody(ids, { cn: { VCPU: 3 } }, { consumer_generation: 2 }),
      }),
      GET('still a MIGRATION', c, 200, { version: '1.38' }),
      // Not without consumer_type: placement 8.0.0 fails that on PostgreSQL (GroupingError).
      GET('usages by type', `/usages?project_id=${ids.uuid('project')}&consumer_type=all`, 200, {
        version: '1.38',
      }),
      POST('POST with types', '/allocations', 204, {
        version: '1.38',
        body: {
          [ids.uuid('consumer3')]: allocationBody(
            ids,
            { cn: { VCPU: 1 } },
            { consumer_generation: null, consumer_type: 'INSTANCE' },
          ),
          [ids.uuid('consumer2')]: allocationBody(
            ids,
            { cn: { MEMORY_MB: 512 } },
            { consumer_generation: 1, consumer_type: 'MIGRATION' },
          ),
        },
      }),
      GET('the second consumer, retyped', `/allocations/${ids.uuid('consumer2')}`, 200, {
        version: '1.38',
      }),
      POST('POST without a type at 1.38', '/allocations', 400, {
        version: '1.38',
        body: {
          [ids.uuid('consumer4')]: allocationBody(
            ids,
            { cn: { VCPU: 1 } },
            { consumer_generation: null },
          ),
        },
      }),
    ];
  },
};

const postAllocations: Sequence = {
  name: 'allocations: POST /allocations from 1.13, all or nothing',
  steps: (ids) => {
    const one = (on: Record<string, Record<string, number>>, extra: Record<string, unknown> = {}) =>
      allocationBody(ids, on, extra);
    return [
      createProvider(ids, 'cn'),
      createProvider(ids, 'storage'),
      setInventories(ids, 'cn', 0, COMPUTE),
      setInventories(ids, 'storage', 0, { DISK_GB: { total: 100 } }),
      POST('at 1.12', '/allocations', 404, {
        version: '1.12',
        body: { [ids.uuid('c1')]: one({ cn: { VCPU: 1 } }) },
      }),
      POST('two consumers', '/allocations', 204, {
        version: '1.13',
        body: {
          [ids.uuid('c1')]: one({ cn: { VCPU: 2 }, storage: { DISK_GB: 10 } }),
          [ids.uuid('c2')]: one({ cn: { MEMORY_MB: 1024 } }),
        },
      }),
      GET('the first', `/allocations/${ids.uuid('c1')}`, 200, { version: '1.13' }),
      GET('the second', `/allocations/${ids.uuid('c2')}`, 200, { version: '1.13' }),
      POST('move c1 to c3 (as a migration does)', '/allocations', 204, {
        version: '1.13',
        body: {
          [ids.uuid('c1')]: one({}),
          [ids.uuid('c3')]: one({ cn: { VCPU: 2 }, storage: { DISK_GB: 10 } }),
        },
      }),
      GET('c1 is empty', `/allocations/${ids.uuid('c1')}`, 200, { version: '1.13' }),
      POST('one consumer over capacity', '/allocations', 409, {
        version: '1.13',
        body: {
          [ids.uuid('c4')]: one({ cn: { VCPU: 1 } }),
          [ids.uuid('c5')]: one({ storage: { DISK_GB: 500 } }),
        },
      }),
      GET('nothing was written', `/allocations/${ids.uuid('c4')}`, 200, { version: '1.13' }),
      // Placement has made c4's consumer row before it finds the provider missing, and keeps it.
      POST('a provider that does not exist', '/allocations', 400, {
        version: '1.13',
        body: { [ids.uuid('c4')]: one({ nobody: { VCPU: 1 } }) },
      }),
      POST('an empty body', '/allocations', 400, { version: '1.13', body: {} }),
      POST('a key that is not a uuid', '/allocations', 400, {
        version: '1.13',
        body: { 'not-a-uuid': one({ cn: { VCPU: 1 } }) },
      }),
      POST('no consumer_generation at 1.28', '/allocations', 400, {
        version: '1.28',
        body: { [ids.uuid('c4')]: one({ cn: { VCPU: 1 } }) },
      }),
      GET('c3 generation', `/allocations/${ids.uuid('c3')}`, 200, {
        version: '1.28',
        capture: { g3: pick.consumerGeneration },
      }),
      POST('c4 is a consumer already: null is refused', '/allocations', 409, {
        version: '1.28',
        body: { [ids.uuid('c4')]: one({ cn: { VCPU: 1 } }, { consumer_generation: null }) },
      }),
      POST('with generations at 1.28', '/allocations', 204, {
        version: '1.28',
        body: (v) => ({
          [ids.uuid('c3')]: one({ cn: { VCPU: 1 } }, { consumer_generation: v['g3'] }),
          [ids.uuid('c4')]: one({ cn: { VCPU: 1 } }, { consumer_generation: 0 }),
          [ids.uuid('c6')]: one({ storage: { DISK_GB: 1 } }, { consumer_generation: null }),
        }),
      }),
      POST('a stale generation at 1.28', '/allocations', 409, {
        version: '1.28',
        body: (v) => ({
          [ids.uuid('c3')]: one({ cn: { VCPU: 3 } }, { consumer_generation: v['g3'] }),
        }),
      }),
      GET('provider allocations', rpPath(ids, 'cn', '/allocations'), 200),
      GET('project usages', `/usages?project_id=${ids.uuid('project')}`, 200, { version: '1.9' }),
    ];
  },
};

const capacity: Sequence = {
  name: 'allocations: refused beyond capacity, max_unit, min_unit and step_size',
  steps: (ids) => {
    const put = (
      name: string,
      consumer: string,
      on: Record<string, Record<string, number>>,
      status: number,
    ) =>
      PUT(name, `/allocations/${ids.uuid(consumer)}`, status, {
        version: '1.12',
        body: allocationBody(ids, on),
      });
    return [
      createProvider(ids, 'cn'),
      createProvider(ids, 'other'),
      setInventories(ids, 'cn', 0, {
        VCPU: { total: 4, reserved: 1, allocation_ratio: pyFloat(2), max_unit: 4 },
        DISK_GB: { total: 100, min_unit: 10, step_size: 10, max_unit: 50 },
      }),
      setInventories(ids, 'other', 0, { VCPU: { total: 1 } }),
      put('beyond max_unit', 'c1', { cn: { VCPU: 5 } }, 409),
      put('up to max_unit', 'c1', { cn: { VCPU: 4 } }, 204),
      put('beyond (total - reserved) × ratio', 'c2', { cn: { VCPU: 3 } }, 409),
      put('exactly to capacity', 'c2', { cn: { VCPU: 2 } }, 204),
      put('below min_unit', 'c3', { cn: { DISK_GB: 5 } }, 409),
      put('off step_size', 'c3', { cn: { DISK_GB: 15 } }, 409),
      put('beyond max_unit of disk', 'c3', { cn: { DISK_GB: 60 } }, 409),
      put('disk within bounds', 'c3', { cn: { DISK_GB: 50 } }, 204),
      put('replacing its own allocation is not counted twice', 'c1', { cn: { VCPU: 4 } }, 204),
      put(
        'one provider fits, the other not',
        'c4',
        { cn: { DISK_GB: 10 }, other: { VCPU: 2 } },
        409,
      ),
      GET('nothing written for c4', `/allocations/${ids.uuid('c4')}`, 200),
      put('a class without inventory', 'c5', { other: { MEMORY_MB: 1 } }, 409),
      GET('usages', rpPath(ids, 'cn', '/usages'), 200),
      GET('usages of the other', rpPath(ids, 'other', '/usages'), 200),
      POST('over capacity in a POST', '/allocations', 409, {
        version: '1.23',
        body: { [ids.uuid('c6')]: allocationBody(ids, { cn: { VCPU: 1 } }) },
      }),
    ];
  },
};

// --- Traits, aggregates, resource classes ------------------------------------

const traits: Sequence = {
  name: 'traits: custom traits, provider traits',
  steps: (ids) => {
    const t = ids.custom('fast');
    return [
      PUT('create a custom trait', `/traits/${t}`, 201, { version: '1.6' }),
      PUT('again', `/traits/${t}`, 204, { version: '1.6' }),
      PUT('at 1.5', `/traits/${t}`, 404, { version: '1.5' }),
      PUT('not CUSTOM_', `/traits/${ids.tag.toUpperCase()}_NOT_CUSTOM`, 400, { version: '1.6' }),
      PUT('a standard trait', '/traits/HW_CPU_X86_AVX2', 400, { version: '1.6' }),
      PUT('lower case', `/traits/CUSTOM_${ids.tag}_lower`, 400, { version: '1.6' }),
      PUT('at 1.15 (caching headers)', `/traits/${ids.custom('cached')}`, 201, { version: '1.15' }),
      GET('it exists', `/traits/${t}`, 204, { version: '1.6' }),
      GET('by prefix', `/traits?name=startswith:CUSTOM_${ids.tag.toUpperCase()}`, 200, {
        version: '1.6',
      }),
      createProvider(ids, 'cn'),
      PUT('traits on a provider', rpPath(ids, 'cn', '/traits'), 200, {
        version: '1.6',
        body: { resource_provider_generation: 0, traits: [t, 'HW_CPU_X86_AVX2'] },
      }),
      PUT('a stale generation', rpPath(ids, 'cn', '/traits'), 409, {
        version: '1.23',
        body: { resource_provider_generation: 0, traits: [t] },
      }),
      PUT('an unknown trait', rpPath(ids, 'cn', '/traits'), 400, {
        version: '1.6',
        body: { resource_provider_generation: 1, traits: [ids.custom('unknown')] },
      }),
      PUT('no generation', rpPath(ids, 'cn', '/traits'), 400, {
        version: '1.6',
        body: { traits: [t] },
      }),
      PUT('traits as a string', rpPath(ids, 'cn', '/traits'), 400, {
        version: '1.6',
        body: { resource_provider_generation: 1, traits: t },
      }),
      PUT('the same trait twice (accepted)', rpPath(ids, 'cn', '/traits'), 200, {
        version: '1.6',
        body: { resource_provider_generation: 1, traits: [t, t] },
      }),
      PUT('at 1.5', rpPath(ids, 'cn', '/traits'), 404, {
        version: '1.5',
        body: { resource_provider_generation: 1, traits: [t] },
      }),
      GET('its traits', rpPath(ids, 'cn', '/traits'), 200, { version: '1.6' }),
      GET(
        'associated',
        `/traits?name=startswith:CUSTOM_${ids.tag.toUpperCase()}&associated=true`,
        200,
        {
          version: '1.6',
        },
      ),
      DELETE('a trait in use', `/traits/${t}`, 409, { version: '1.6' }),
      DELETE('a standard trait', '/traits/HW_CPU_X86_AVX2', 400, { version: '1.6' }),
      DELETE('a trait that does not exist', `/traits/${ids.custom('unknown')}`, 404, {
        version: '1.6',
      }),
      PUT('replace the traits', rpPath(ids, 'cn', '/traits'), 200, {
        version: '1.6',
        body: { resource_provider_generation: 2, traits: [ids.custom('cached')] },
      }),
      DELETE('all of the provider’s traits', rpPath(ids, 'cn', '/traits'), 204, { version: '1.6' }),
      GET('none left, generation moved', rpPath(ids, 'cn', '/traits'), 200, { version: '1.6' }),
      DELETE('the trait', `/traits/${t}`, 204, { version: '1.6' }),
      GET('it is gone', `/traits/${t}`, 404, { version: '1.6' }),
      DELETE('traits of a provider that does not exist', rpPath(ids, 'nobody', '/traits'), 404, {
        version: '1.6',
      }),
    ];
  },
};

const aggregates: Sequence = {
  name: 'aggregates: PUT below 1.19 (a list) and from 1.19 (with generation)',
  steps: (ids) => {
    const a = rpPath(ids, 'cn', '/aggregates');
    return [
      createProvider(ids, 'cn'),
      createProvider(ids, 'other'),
      PUT('a list at 1.1', a, 200, { version: '1.1', body: [ids.uuid('agg1'), ids.uuid('agg2')] }),
      GET('read at 1.1', a, 200, { version: '1.1' }),
      GET('generation unchanged', rpPath(ids, 'cn'), 200, { version: '1.19' }),
      PUT('the 1.19 form at 1.1', a, 400, {
        version: '1.1',
        body: { aggregates: [ids.uuid('agg1')], resource_provider_generation: 0 },
      }),
      PUT('not a uuid', a, 400, { version: '1.1', body: ['not-a-uuid'] }),
      PUT('a uuid twice', a, 400, { version: '1.1', body: [ids.uuid('agg1'), ids.uuid('agg1')] }),
      PUT('at 1.0', a, 404, { version: '1.0', body: [ids.uuid('agg1')] }),
      PUT('with generation at 1.19', a, 200, {
        version: '1.19',
        body: { aggregates: [ids.uuid('agg1'), ids.uuid('agg3')], resource_provider_generation: 0 },
      }),
      PUT('a stale generation', a, 409, {
        version: '1.19',
        body: { aggregates: [ids.uuid('agg1')], resource_provider_generation: 0 },
      }),
      PUT('the list form at 1.19', a, 400, { version: '1.19', body: [ids.uuid('agg1')] }),
      PUT('no generation at 1.19', a, 400, { version: '1.19', body: { aggregates: [] } }),
      PUT('another provider joins agg1', rpPath(ids, 'other', '/aggregates'), 200, {
        version: '1.19',
        body: { aggregates: [ids.uuid('agg1')], resource_provider_generation: 0 },
      }),
      GET('members of agg1', `/resource_providers?member_of=${ids.uuid('agg1')}`, 200, {
        version: '1.3',
      }),
      PUT('empty at 1.19', a, 200, {
        version: '1.19',
        body: { aggregates: [], resource_provider_generation: 1 },
      }),
      GET('read at 1.19', a, 200, { version: '1.19' }),
      PUT('a provider that does not exist', rpPath(ids, 'nobody', '/aggregates'), 404, {
        version: '1.19',
        body: { aggregates: [], resource_provider_generation: 0 },
      }),
      PUT('text/plain', a, 415, {
        version: '1.19',
        body: { aggregates: [], resource_provider_generation: 2 },
        headers: { 'content-type': 'text/plain' },
      }),
    ];
  },
};

const resourceClasses: Sequence = {
  name: 'resource classes: POST, PUT (rename to 1.6, create from 1.7), DELETE',
  steps: (ids) => {
    const rc = (k: string) => `/resource_classes/${ids.custom(k)}`;
    return [
      POST('create', '/resource_classes', 201, { version: '1.2', body: { name: ids.custom('a') } }),
      POST('again', '/resource_classes', 409, { version: '1.2', body: { name: ids.custom('a') } }),
      POST('not CUSTOM_', '/resource_classes', 400, {
        version: '1.2',
        body: { name: `${ids.tag.toUpperCase()}_A` },
      }),
      POST('a standard name', '/resource_classes', 400, { version: '1.2', body: { name: 'VCPU' } }),
      POST('at 1.1', '/resource_classes', 404, { version: '1.1', body: { name: ids.custom('b') } }),
      POST('too long', '/resource_classes', 400, {
        version: '1.2',
        body: { name: `${ids.custom('long')}_`.padEnd(256, 'X') },
      }),
      GET('read it', rc('a'), 200, { version: '1.2' }),
      GET('read it at 1.15', rc('a'), 200, { version: '1.15' }),
      PUT('rename at 1.2', rc('a'), 200, { version: '1.2', body: { name: ids.custom('b') } }),
      GET('the old name is gone', rc('a'), 404, { version: '1.2' }),
      PUT('rename a standard class', '/resource_classes/VCPU', 400, {
        version: '1.2',
        body: { name: ids.custom('c') },
      }),
      POST('create d', '/resource_classes', 201, {
        version: '1.2',
        body: { name: ids.custom('d') },
      }),
      PUT('rename to a taken name', rc('b'), 409, {
        version: '1.6',
        body: { name: ids.custom('d') },
      }),
      PUT('rename to a standard-looking name', rc('b'), 400, {
        version: '1.6',
        body: { name: 'VCPU2' },
      }),
      PUT('rename one that does not exist', rc('nothing'), 404, {
        version: '1.2',
        body: { name: ids.custom('e') },
      }),
      PUT('create at 1.7', rc('e'), 201, { version: '1.7' }),
      PUT('again at 1.7', rc('e'), 204, { version: '1.7' }),
      PUT('a standard class at 1.7', '/resource_classes/VCPU', 400, { version: '1.7' }),
      PUT('a body at 1.7 (ignored)', rc('f'), 201, {
        version: '1.7',
        body: { name: ids.custom('g') },
      }),
      createProvider(ids, 'cn'),
      setInventories(ids, 'cn', 0, { [ids.custom('e')]: { total: 4 } }),
      DELETE('a class with inventory', rc('e'), 409, { version: '1.2' }),
      DELETE('a standard class', '/resource_classes/VCPU', 400, { version: '1.2' }),
      DELETE('one that does not exist', rc('nothing'), 404, { version: '1.2' }),
      DELETE('b', rc('b'), 204, { version: '1.2' }),
      GET('b is gone', rc('b'), 404, { version: '1.2' }),
      DELETE('the inventory', rpPath(ids, 'cn', `/inventories/${ids.custom('e')}`), 204),
      DELETE('e, now free', rc('e'), 204, { version: '1.2' }),
      GET('d is left', rc('d'), 200, { version: '1.2' }),
    ];
  },
};

// --- Reshaper --------------------------------------------------------------

const reshaper: Sequence = {
  name: 'reshaper: POST /reshaper at 1.30 and 1.38, refusals',
  steps: (ids) => {
    const inv = (key: string, gen: number, inventories: Record<string, Inventory>) => ({
      [ids.uuid(key)]: { resource_provider_generation: gen, inventories },
    });
    return [
      createProvider(ids, 'cn'),
      createProvider(ids, 'disk', 'cn'),
      setInventories(ids, 'cn', 0, COMPUTE),
      PUT('an instance', `/allocations/${ids.uuid('vm')}`, 204, {
        version: '1.28',
        body: allocationBody(ids, { cn: { VCPU: 2, DISK_GB: 20 } }, { consumer_generation: null }),
      }),
      POST('at 1.29', '/reshaper', 404, {
        version: '1.29',
        body: { inventories: inv('cn', 2, COMPUTE), allocations: {} },
      }),
      POST('no inventories', '/reshaper', 400, {
        version: '1.30',
        body: { inventories: {}, allocations: {} },
      }),
      POST('a stale generation', '/reshaper', 409, {
        version: '1.30',
        body: { inventories: inv('cn', 0, COMPUTE), allocations: {} },
      }),
      POST('a provider that does not exist', '/reshaper', 400, {
        version: '1.30',
        body: { inventories: inv('nobody', 0, COMPUTE), allocations: {} },
      }),
      POST('remove inventory that is in use', '/reshaper', 409, {
        version: '1.30',
        body: {
          inventories: {
            ...inv('cn', 2, { VCPU: COMPUTE['VCPU']!, MEMORY_MB: COMPUTE['MEMORY_MB']! }),
            ...inv('disk', 0, { DISK_GB: { total: 200 } }),
          },
          allocations: {},
        },
      }),
      POST('allocations that do not fit', '/reshaper', 409, {
        version: '1.30',
        body: {
          inventories: {
            ...inv('cn', 2, { VCPU: COMPUTE['VCPU']!, MEMORY_MB: COMPUTE['MEMORY_MB']! }),
            ...inv('disk', 0, { DISK_GB: { total: 10 } }),
          },
          allocations: {
            [ids.uuid('vm')]: allocationBody(
              ids,
              { cn: { VCPU: 2 }, disk: { DISK_GB: 20 } },
              { consumer_generation: 1 },
            ),
          },
        },
      }),
      POST('no consumer_generation', '/reshaper', 400, {
        version: '1.30',
        body: {
          inventories: inv('disk', 0, { DISK_GB: { total: 200 } }),
          allocations: { [ids.uuid('vm')]: allocationBody(ids, { cn: { VCPU: 2 } }) },
        },
      }),
      POST('move DISK_GB to the child', '/reshaper', 204, {
        version: '1.30',
        body: {
          inventories: {
            ...inv('cn', 2, { VCPU: COMPUTE['VCPU']!, MEMORY_MB: COMPUTE['MEMORY_MB']! }),
            ...inv('disk', 0, { DISK_GB: COMPUTE['DISK_GB']! }),
          },
          allocations: {
            [ids.uuid('vm')]: allocationBody(
              ids,
              { cn: { VCPU: 2 }, disk: { DISK_GB: 20 } },
              { consumer_generation: 1 },
            ),
          },
        },
      }),
      GET('the instance', `/allocations/${ids.uuid('vm')}`, 200, { version: '1.38' }),
      GET('root inventory', rpPath(ids, 'cn', '/inventories'), 200),
      GET('child inventory', rpPath(ids, 'disk', '/inventories'), 200),
      POST('no consumer_type at 1.38', '/reshaper', 400, {
        version: '1.38',
        body: {
          inventories: inv('disk', 1, { DISK_GB: COMPUTE['DISK_GB']! }),
          allocations: {
            [ids.uuid('vm')]: allocationBody(
              ids,
              { cn: { VCPU: 2 }, disk: { DISK_GB: 20 } },
              {
                consumer_generation: 2,
              },
            ),
          },
        },
      }),
      // A reshape moves the child's generation twice: once for inventory, once for allocations.
      readGeneration(ids, 'disk'),
      POST('with consumer_type at 1.38, and a new consumer', '/reshaper', 204, {
        version: '1.38',
        body: (v) => ({
          inventories: inv('disk', v[gen('disk')] as number, {
            DISK_GB: { ...COMPUTE['DISK_GB']!, total: 300 },
          }),
          allocations: {
            [ids.uuid('vm')]: allocationBody(
              ids,
              { cn: { VCPU: 2 }, disk: { DISK_GB: 20 } },
              {
                consumer_generation: 2,
                consumer_type: 'INSTANCE',
              },
            ),
            [ids.uuid('vm2')]: allocationBody(
              ids,
              { disk: { DISK_GB: 10 } },
              {
                consumer_generation: null,
                consumer_type: 'INSTANCE',
              },
            ),
          },
        }),
      }),
      GET('the instance, typed', `/allocations/${ids.uuid('vm')}`, 200, { version: '1.38' }),
      GET('the new one', `/allocations/${ids.uuid('vm2')}`, 200, { version: '1.38' }),
      GET('child usages', rpPath(ids, 'disk', '/usages'), 200),
    ];
  },
};

/**
 * What nova's libvirt driver does on upgrade when VGPUs move from the
 * compute node to one child provider per physical GPU: one reshape moves
 * the inventory and the instance's VGPU allocation together, then a new
 * instance is claimed against the nested tree.
 */
const vgpuReshape: Sequence = {
  name: 'reshaper: a flat compute node’s VGPUs move to two child providers',
  steps: (ids) => {
    const host = {
      VCPU: COMPUTE['VCPU']!,
      MEMORY_MB: COMPUTE['MEMORY_MB']!,
      DISK_GB: COMPUTE['DISK_GB']!,
    };
    return [
      createProvider(ids, 'cn'),
      setInventories(ids, 'cn', 0, { ...host, VGPU: { total: 4, max_unit: 2 } }),
      PUT('instance 1 on the flat node', `/allocations/${ids.uuid('vm1')}`, 204, {
        version: '1.28',
        body: allocationBody(
          ids,
          { cn: { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 20, VGPU: 1 } },
          { consumer_generation: null },
        ),
      }),
      createProvider(ids, 'pgpu0', 'cn'),
      createProvider(ids, 'pgpu1', 'cn'),
      GET('the node', rpPath(ids, 'cn'), 200, {
        version: '1.14',
        capture: { g: pick.generation },
      }),
      GET('instance 1', `/allocations/${ids.uuid('vm1')}`, 200, {
        version: '1.28',
        capture: { cg: pick.consumerGeneration },
      }),
      POST('reshape', '/reshaper', 204, {
        version: '1.30',
        body: (v) => ({
          inventories: {
            [ids.uuid('cn')]: { resource_provider_generation: v['g'], inventories: host },
            [ids.uuid('pgpu0')]: {
              resource_provider_generation: 0,
              inventories: { VGPU: { total: 2, max_unit: 2 } },
            },
            [ids.uuid('pgpu1')]: {
              resource_provider_generation: 0,
              inventories: { VGPU: { total: 2, max_unit: 2 } },
            },
          },
          allocations: {
            [ids.uuid('vm1')]: allocationBody(
              ids,
              { cn: { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 20 }, pgpu0: { VGPU: 1 } },
              { consumer_generation: v['cg'] },
            ),
          },
        }),
      }),
      GET('the node has no VGPU', rpPath(ids, 'cn', '/inventories'), 200),
      GET('pgpu0', rpPath(ids, 'pgpu0', '/inventories'), 200),
      GET('pgpu1', rpPath(ids, 'pgpu1', '/inventories'), 200),
      GET('instance 1 moved with it', `/allocations/${ids.uuid('vm1')}`, 200, { version: '1.28' }),
      GET('pgpu0 usages', rpPath(ids, 'pgpu0', '/usages'), 200),
      GET('the tree', `/resource_providers?in_tree=${ids.uuid('cn')}`, 200, { version: '1.14' }),
      PUT('instance 2 on the nested tree', `/allocations/${ids.uuid('vm2')}`, 204, {
        version: '1.38',
        body: allocationBody(
          ids,
          { cn: { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 20 }, pgpu1: { VGPU: 2 } },
          { consumer_generation: null, consumer_type: 'INSTANCE' },
        ),
      }),
      PUT('instance 3 finds no VGPU left on pgpu1', `/allocations/${ids.uuid('vm3')}`, 409, {
        version: '1.38',
        body: allocationBody(
          ids,
          { cn: { VCPU: 1 }, pgpu1: { VGPU: 1 } },
          { consumer_generation: null, consumer_type: 'INSTANCE' },
        ),
      }),
      GET('node allocations', rpPath(ids, 'cn', '/allocations'), 200),
      GET('pgpu1 allocations', rpPath(ids, 'pgpu1', '/allocations'), 200),
      GET('project usages', `/usages?project_id=${ids.uuid('project')}`, 200, { version: '1.9' }),
      DELETE('the node is a parent now', rpPath(ids, 'cn'), 409, { version: '1.23' }),
    ];
  },
};

/** Every sequence, in the order they run (each in its own names, on one pair of databases). */
export const WRITE_SEQUENCES: readonly Sequence[] = [
  providersCreate,
  providersUpdate,
  providersDelete,
  inventoriesCollection,
  inventoriesOne,
  allocationsListForm,
  allocationsDictForm,
  consumerGenerations,
  mappings,
  consumerTypes,
  postAllocations,
  capacity,
  traits,
  aggregates,
  resourceClasses,
  reshaper,
  vgpuReshape,
];
