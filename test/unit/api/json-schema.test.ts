/**
 * json-schema against Debian's jsonschema as placement uses it: every
 * (schema, instance) pair below also goes through jsonschema.validate with a
 * FormatChecker in /usr/bin/python3, with placement.util imported (it
 * registers placement's "uuid" format), in one batch, and str() of the
 * error it raises must be ours, character for character. The schemas are
 * this test's own, shaped like placement's request schemas (same keywords,
 * same nesting, same key order).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/api/errors.js';
import { parseBody, validateJson, type JsonSchema } from '../../../src/api/json-schema.js';
import { Version } from '../../../src/api/microversion.js';
import { dumpsPyJson, parsePyJson, PyFloat, type Dumpable } from '../../../src/api/py-json.js';
import { QueryParams, validateQuery } from '../../../src/api/query.js';
import { totalUsagesSchema } from '../../../src/api/schemas/usages.js';

const PYTHON = '/usr/bin/python3';
const required = process.env['CI'] === 'true' || process.env['PU_REQUIRE_SERVERS'] === '1';
const available =
  existsSync(PYTHON) &&
  existsSync('/usr/lib/python3/dist-packages/jsonschema') &&
  existsSync('/usr/lib/python3/dist-packages/placement');
if (required && !available) {
  throw new Error(
    'python3-placement (with python3-jsonschema) is required in CI: run scripts/install-system-deps.sh',
  );
}

const HARNESS = `
import json, sys, warnings
warnings.simplefilter('ignore')
import jsonschema
import webob.exc
import placement.util  # registers placement's uuid format checker, as the service does

out = []
for case in json.load(sys.stdin):
    schema = json.loads(case['schema'])
    if 'body' in case:
        try:
            placement.util.extract_json(bytes.fromhex(case['body']), schema)
            out.append(None)
        except webob.exc.HTTPBadRequest as e:
            out.append(e.detail)
        continue
    try:
        jsonschema.validate(json.loads(case['instance']), schema,
                            format_checker=jsonschema.FormatChecker())
        out.append(None)
    except jsonschema.ValidationError as e:
        out.append(str(e))
print(json.dumps(out))
`;

type PyCase = { schema: string; instance: string } | { schema: string; body: string };

function python(cases: PyCase[]): (string | null)[] {
  return JSON.parse(
    execFileSync(PYTHON, ['-c', HARNESS], {
      input: JSON.stringify(cases),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    }),
  ) as (string | null)[];
}

/** A schema as the JSON text Python reads (floats stay floats, keys keep their order). */
const schemaText = (schema: JsonSchema) => dumpsPyJson(schema as unknown as Dumpable);
/** An instance written as a plain value; use text for floats. */
const j = (v: Dumpable) => dumpsPyJson(v);

const U1 = '11111111-2222-3333-4444-555555555555';
const U2 = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const U3 = '99999999-8888-7777-6666-555555555555';
const RC = '^[A-Z0-9_]+$';
const CUSTOM = '^CUSTOM_[A-Z0-9_]+$';
const UUID_CHARS = '^[0-9a-fA-F-]{36}$';
const GROUP = '[a-zA-Z0-9_-]{1,64}';
const MAX_INT = 2147483647;
const FLOAT_MAX = new PyFloat(3.40282e38);

// ---------------------------------------------------------------------------
// Schemas shaped like placement's

const bounded = (minimum: number): JsonSchema => ({ type: 'integer', maximum: MAX_INT, minimum });

function inventoryRecord(requiredKeys: string[]): JsonSchema {
  return {
    type: 'object',
    properties: {
      resource_provider_generation: { type: 'integer' },
      total: { type: 'integer', maximum: MAX_INT, minimum: 1 },
      reserved: bounded(0),
      min_unit: bounded(1),
      max_unit: bounded(1),
      step_size: bounded(1),
      allocation_ratio: { type: 'number', maximum: FLOAT_MAX },
    },
    required: requiredKeys,
    additionalProperties: false,
  };
}

const INVENTORY = inventoryRecord(['total', 'resource_provider_generation']);

const POST_INVENTORY: JsonSchema = {
  type: 'object',
  properties: {
    resource_provider_generation: { type: 'integer' },
    total: { type: 'integer', maximum: MAX_INT, minimum: 1 },
    reserved: bounded(0),
    min_unit: bounded(1),
    max_unit: bounded(1),
    step_size: bounded(1),
    allocation_ratio: { type: 'number', maximum: FLOAT_MAX },
    resource_class: { type: 'string', pattern: RC },
  },
  required: ['total', 'resource_class'],
  additionalProperties: false,
};

const PUT_INVENTORIES: JsonSchema = {
  type: 'object',
  properties: {
    resource_provider_generation: { type: 'integer' },
    inventories: { type: 'object', patternProperties: { [RC]: inventoryRecord(['total']) } },
  },
  required: ['resource_provider_generation', 'inventories'],
  additionalProperties: false,
};

const RESOURCES = (minProperties: number): JsonSchema => ({
  type: 'object',
  minProperties,
  patternProperties: { [RC]: { type: 'integer', minimum: 1 } },
  additionalProperties: false,
});

const ALLOCATION_LIST: JsonSchema = {
  type: 'object',
  properties: {
    allocations: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        properties: {
          resource_provider: {
            type: 'object',
            properties: { uuid: { type: 'string', format: 'uuid' } },
            additionalProperties: false,
            required: ['uuid'],
          },
          resources: RESOURCES(1),
        },
        required: ['resource_provider', 'resources'],
        additionalProperties: false,
      },
    },
    project_id: { type: 'string', minLength: 1, maxLength: 255 },
    user_id: { type: 'string', minLength: 1, maxLength: 255 },
  },
  required: ['allocations', 'project_id', 'user_id'],
  additionalProperties: false,
};

function allocationDict(minAllocations: number, version: number): JsonSchema {
  const properties: Record<string, JsonSchema> = {
    allocations: {
      type: 'object',
      minProperties: minAllocations,
      patternProperties: {
        [UUID_CHARS]: {
          type: 'object',
          properties: { generation: { type: 'integer' }, resources: RESOURCES(1) },
          required: ['resources'],
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
    project_id: { type: 'string', minLength: 1, maxLength: 255 },
    user_id: { type: 'string', minLength: 1, maxLength: 255 },
  };
  const requiredKeys = ['allocations', 'project_id', 'user_id'];
  if (version >= 28) {
    properties['consumer_generation'] = { type: ['integer', 'null'], additionalProperties: false };
    requiredKeys.push('consumer_generation');
  }
  if (version >= 34) {
    properties['mappings'] = {
      type: 'object',
      minProperties: 1,
      patternProperties: {
        [GROUP]: { type: 'array', minItems: 1, items: { type: 'string', format: 'uuid' } },
      },
    };
  }
  if (version >= 38) {
    properties['consumer_type'] = { type: 'string', pattern: RC, minLength: 1, maxLength: 255 };
    requiredKeys.push('consumer_type');
  }
  return { type: 'object', properties, additionalProperties: false, required: requiredKeys };
}

const PUT_ALLOCATIONS_1_38 = allocationDict(0, 38);
const POST_ALLOCATIONS_1_38: JsonSchema = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  patternProperties: { [UUID_CHARS]: allocationDict(0, 38) },
};

const RESHAPER_1_38: JsonSchema = {
  type: 'object',
  properties: {
    inventories: {
      type: 'object',
      patternProperties: { [UUID_CHARS]: PUT_INVENTORIES },
      minProperties: 1,
      additionalProperties: false,
    },
    allocations: {
      type: 'object',
      minProperties: 0,
      additionalProperties: false,
      patternProperties: { [UUID_CHARS]: allocationDict(0, 38) },
    },
  },
  required: ['inventories', 'allocations'],
  additionalProperties: false,
};

const POST_PROVIDER_1_14: JsonSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 200 },
    uuid: { type: 'string', format: 'uuid' },
    parent_provider_uuid: { anyOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }] },
  },
  required: ['name'],
  additionalProperties: false,
};

const POST_RESOURCE_CLASS: JsonSchema = {
  type: 'object',
  properties: { name: { type: 'string', pattern: CUSTOM, maxLength: 255 } },
  required: ['name'],
  additionalProperties: false,
};

const PROVIDER_TRAITS: JsonSchema = {
  type: 'object',
  properties: {
    traits: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 } },
    resource_provider_generation: { type: 'integer' },
  },
  required: ['traits', 'resource_provider_generation'],
  additionalProperties: false,
};

const AGGREGATE_LIST: JsonSchema = {
  type: 'array',
  items: { type: 'string', format: 'uuid' },
  uniqueItems: true,
};

const AGGREGATES_1_19: JsonSchema = {
  type: 'object',
  properties: {
    aggregates: AGGREGATE_LIST,
    resource_provider_generation: { type: 'integer' },
  },
  required: ['aggregates', 'resource_provider_generation'],
  additionalProperties: false,
};

const CANDIDATES_QUERY: JsonSchema = {
  type: 'object',
  properties: {
    limit: { type: ['integer', 'string'], pattern: '^[1-9][0-9]*$', minimum: 1, minLength: 1 },
    group_policy: { type: 'string', enum: ['none', 'isolate'] },
    root_required: { type: ['string'] },
  },
  additionalProperties: false,
  patternProperties: Object.fromEntries(
    ['resources', 'required', 'member_of', 'in_tree'].map((k) => [
      `^${k}(${GROUP})?$`,
      { type: 'string' },
    ]),
  ),
};

// ---------------------------------------------------------------------------
// The corpus: schema, then instances as JSON text

const alloc = (
  extra: Record<string, Dumpable> = {},
  allocations: Dumpable = { [U1]: { resources: { VCPU: 1 } } },
) =>
  j({
    allocations,
    project_id: 'p',
    user_id: 'u',
    consumer_generation: null,
    consumer_type: 'INSTANCE',
    ...extra,
  });

const CORPUS: [string, JsonSchema, string[]][] = [
  [
    'inventory',
    INVENTORY,
    [
      '{"resource_provider_generation": 1, "total": 8}',
      '{"resource_provider_generation": 1, "total": 8.0, "allocation_ratio": 16}',
      '{"resource_provider_generation": 1, "total": 8.5}',
      '{"resource_provider_generation": 1, "total": NaN}',
      '{"resource_provider_generation": 1, "total": Infinity}',
      '{"resource_provider_generation": 1, "total": 1e400}',
      '{"resource_provider_generation": 1, "total": 2147483648}',
      '{"resource_provider_generation": 1, "total": 2147483647.0}',
      '{"resource_provider_generation": 1, "total": 99999999999999999999999}',
      '{"resource_provider_generation": 1, "total": 0}',
      '{"resource_provider_generation": 1, "total": -1.5}',
      '{"resource_provider_generation": 1, "total": true}',
      '{"resource_provider_generation": 1, "total": "8"}',
      '{"resource_provider_generation": 1, "total": null}',
      '{"resource_provider_generation": 1, "total": 8, "allocation_ratio": NaN}',
      '{"resource_provider_generation": 1, "total": 8, "allocation_ratio": -Infinity}',
      '{"resource_provider_generation": 1, "total": 8, "allocation_ratio": Infinity}',
      '{"resource_provider_generation": 1, "total": 8, "allocation_ratio": 3.40282e+38}',
      '{"resource_provider_generation": 1, "total": 8, "allocation_ratio": 3.40283e38}',
      '{"resource_provider_generation": 1, "total": 8, "allocation_ratio": 340283000000000000000000000000000000000}',
      '{"resource_provider_generation": 1, "total": 8, "allocation_ratio": "1.0"}',
      '{"resource_provider_generation": 1, "total": 8, "reserved": -1, "min_unit": 0}',
      '{"resource_provider_generation": 1.0, "total": 8}',
      '{"resource_provider_generation": 1.5, "total": 8}',
      '{"total": 8}',
      '{}',
      '{"resource_provider_generation": 1, "total": 8, "bogus": 1}',
      '{"resource_provider_generation": 1, "total": 8, "zeta": 1, "alpha": 2, "Émile": 3, "😀": 4, "ｚ": 5}',
      '{"resource_provider_generation": 1, "total": 0, "bogus": 1}',
      '[]',
      '"inventory"',
      'null',
      '8',
    ],
  ],
  [
    'post inventory',
    POST_INVENTORY,
    [
      '{"resource_class": "VCPU", "total": 8}',
      '{"resource_class": "VCPU\\n", "total": 8}',
      '{"resource_class": "VCPU\\n\\n", "total": 8}',
      '{"resource_class": "vcpu", "total": 8}',
      '{"resource_class": "", "total": 8}',
      '{"resource_class": 1, "total": 8}',
      '{"resource_class": "VCPU", "total": 8, "resource_provider_generation": "x"}',
      '{}',
    ],
  ],
  [
    'put inventories',
    PUT_INVENTORIES,
    [
      j({
        resource_provider_generation: 1,
        inventories: { VCPU: { total: 8 }, DISK_GB: { total: 10, reserved: 2 } },
      }),
      j({ resource_provider_generation: 1, inventories: { VCPU: { total: 0 } } }),
      j({ resource_provider_generation: 1, inventories: { VCPU: { total: 8, bogus: 1 } } }),
      j({ resource_provider_generation: 1, inventories: { VCPU: {} } }),
      j({ resource_provider_generation: 1, inventories: { VCPU: [] } }),
      j({ resource_provider_generation: 1, inventories: { vcpu: { total: 'x' } } }),
      j({
        resource_provider_generation: 1,
        inventories: { VCPU: { total: 8 }, DISK_GB: { total: -1 }, MEMORY_MB: { max_unit: 0 } },
      }),
      j({ resource_provider_generation: 1, inventories: [] }),
      j({ resource_provider_generation: 'x', inventories: { VCPU: { total: 0 } } }),
      j({ inventories: { VCPU: { total: 0 } } }),
      j({ resource_provider_generation: 1, inventories: {}, extra: true }),
    ],
  ],
  [
    'allocations as a list (1.8)',
    ALLOCATION_LIST,
    [
      j({
        allocations: [{ resource_provider: { uuid: U1 }, resources: { VCPU: 1 } }],
        project_id: 'p',
        user_id: 'u',
      }),
      j({ allocations: [], project_id: 'p', user_id: 'u' }),
      j({
        allocations: [{ resource_provider: { uuid: 'nope' }, resources: { VCPU: 1 } }],
        project_id: 'p',
        user_id: 'u',
      }),
      j({
        allocations: [{ resource_provider: { uuid: `{urn:uuid:${U1}}` }, resources: { VCPU: 1 } }],
        project_id: 'p',
        user_id: 'u',
      }),
      j({
        allocations: [
          {
            resource_provider: { uuid: U1.replace(/-/g, '').toUpperCase() },
            resources: { VCPU: 1 },
          },
        ],
        project_id: 'p',
        user_id: 'u',
      }),
      j({
        allocations: [{ resource_provider: { uuid: 12 }, resources: { VCPU: 1 } }],
        project_id: 'p',
        user_id: 'u',
      }),
      j({ allocations: [{ resource_provider: {}, resources: {} }], project_id: 'p', user_id: 'u' }),
      j({
        allocations: [
          { resource_provider: { uuid: U1 }, resources: { VCPU: 0 } },
          { resources: {} },
        ],
        project_id: 'p',
        user_id: 'u',
      }),
      j({
        allocations: [
          { resource_provider: { uuid: U1, name: 'x' }, resources: { VCPU: 1, vcpu: 1 } },
        ],
        project_id: '',
        user_id: 'u',
      }),
      j({
        allocations: [{ resource_provider: { uuid: U1 }, resources: { VCPU: 1 } }],
        project_id: 'p'.repeat(256),
        user_id: 'u',
      }),
      j({
        allocations: [{ resource_provider: { uuid: U1 }, resources: { VCPU: 1 } }],
        project_id: 'p',
        user_id: 'a b '.repeat(70),
      }),
      j({ allocations: {}, project_id: 'p', user_id: 'u' }),
      j({ allocations: [{ resource_provider: { uuid: U1 }, resources: { VCPU: 1 } }] }),
    ],
  ],
  [
    'put allocations (1.38)',
    PUT_ALLOCATIONS_1_38,
    [
      alloc(),
      alloc({}, {}),
      alloc({ consumer_generation: 3 }),
      alloc({ consumer_generation: 3.0 }),
      alloc({ consumer_generation: '3' }),
      alloc({ consumer_type: 'instance' }),
      alloc({ consumer_type: '' }),
      alloc({ consumer_type: 'X'.repeat(256) }),
      alloc({}, { [U1]: { resources: { VCPU: 0 } } }),
      alloc({}, { [U1]: { resources: { VCPU: 1.5 } } }),
      alloc({}, { [U1]: { resources: {} } }),
      alloc({}, { [U1]: { generation: 'x', resources: { VCPU: 1 } } }),
      alloc({}, { [U1]: { resources: { VCPU: 1 }, bogus: 1 } }),
      alloc({}, { [U1]: {} }),
      alloc({}, { 'not-a-uuid': { resources: { VCPU: 1 } } }),
      alloc({}, { [U1]: { resources: { VCPU: 1 } }, [U2]: { resources: { vcpu: 1 } }, short: 1 }),
      alloc({ mappings: {} }),
      alloc({ mappings: { '': [U1] } }),
      alloc({ mappings: { _a: [] } }),
      alloc({ mappings: { _a: [U1, 'x'] } }),
      alloc({ mappings: { _a: [U1], '!!': 'anything' } }),
      j({ allocations: {}, project_id: 'p', user_id: 'u' }),
      j({ allocations: {} }),
      j({}),
    ],
  ],
  [
    'post allocations (1.38)',
    POST_ALLOCATIONS_1_38,
    [
      j({ [U1]: JSON.parse(alloc()) as Dumpable }),
      j({}),
      j({ x: 1 }),
      j({ [U1]: JSON.parse(alloc()) as Dumpable, y: 1, x: 2 }),
      j({ [U1]: { allocations: {}, project_id: 'p' } }),
      j({ [U1]: JSON.parse(alloc({}, { [U2]: { resources: { VCPU: -1 } } })) as Dumpable }),
      j({
        [U1]: JSON.parse(alloc()) as Dumpable,
        [U2]: JSON.parse(alloc({ consumer_generation: 'x' })) as Dumpable,
      }),
    ],
  ],
  [
    'reshaper (1.38)',
    RESHAPER_1_38,
    [
      j({
        inventories: { [U1]: { resource_provider_generation: 1, inventories: {} } },
        allocations: {},
      }),
      j({ inventories: {}, allocations: {} }),
      j({
        inventories: {
          [U1]: { resource_provider_generation: 1, inventories: { VCPU: { total: 0 } } },
        },
        allocations: {},
      }),
      j({
        inventories: { [U1]: { inventories: {} } },
        allocations: { [U2]: JSON.parse(alloc({ consumer_type: 'bad type' })) as Dumpable },
      }),
      j({ inventories: { x: {} }, allocations: [] }),
      j({ allocations: {} }),
    ],
  ],
  [
    'post resource provider (1.14)',
    POST_PROVIDER_1_14,
    [
      j({ name: 'rp', uuid: U1, parent_provider_uuid: U2 }),
      j({ name: 'rp', parent_provider_uuid: null }),
      j({ name: 'rp', parent_provider_uuid: 'nope' }),
      j({ name: 'rp', parent_provider_uuid: 7 }),
      j({ name: 'rp', parent_provider_uuid: [] }),
      j({ name: 'rp', uuid: null }),
      j({ name: 'rp', uuid: `urn:uuid:${U3}` }),
      j({ name: 'rp', uuid: ` ${U3}` }),
      j({ name: 'x'.repeat(201) }),
      j({ name: 'compute node '.repeat(20) }),
      j({ name: 'nœud de calcul 東京 😀 \u00a0\u200b\u2028 '.repeat(8) }),
      j({ name: 'tab\tnew\nline\x00' }),
      j({ name: 5 }),
      j({ uuid: U1 }),
      j({ name: 'rp', extra: 1 }),
    ],
  ],
  [
    'resource class',
    POST_RESOURCE_CLASS,
    [
      j({ name: 'CUSTOM_FOO' }),
      j({ name: 'FOO' }),
      j({ name: 'CUSTOM_FOO\n' }),
      j({ name: `CUSTOM_${'X'.repeat(250)}` }),
      j({ name: 'CUSTOM_' }),
      j({}),
    ],
  ],
  [
    'provider traits',
    PROVIDER_TRAITS,
    [
      j({ traits: ['A', 'B'], resource_provider_generation: 0 }),
      j({ traits: ['A', ''], resource_provider_generation: 0 }),
      j({ traits: ['A', 1, 'B', null], resource_provider_generation: 0 }),
      j({ traits: 'A', resource_provider_generation: 0 }),
      j({ traits: ['A'] }),
    ],
  ],
  [
    'aggregates (1.1 and 1.19)',
    AGGREGATES_1_19,
    [
      j({ aggregates: [U1, U2], resource_provider_generation: 1 }),
      j({ aggregates: [U1, U1], resource_provider_generation: 1 }),
      j({ aggregates: [U1, 'x', U1], resource_provider_generation: 1 }),
      j({ aggregates: {}, resource_provider_generation: 1 }),
      j({ aggregates: [] }),
    ],
  ],
  [
    'aggregate list',
    AGGREGATE_LIST,
    [j([U1]), j([U1, U1]), j(['x']), j([1, true]), j([1, 1.0]), j([[1], [true]]), j({})],
  ],
  [
    'allocation candidates query',
    CANDIDATES_QUERY,
    [
      j({ resources: 'VCPU:1', limit: '5', group_policy: 'none' }),
      j({ resources_A: 'VCPU:1', required_B: 'X', member_of_c: 'x', in_tree1: 'y' }),
      j({ limit: '0' }),
      j({ limit: '' }),
      j({ limit: 0 }),
      j({ limit: 5 }),
      j({ group_policy: 'isolated' }),
      j({ root_required: 1 }),
      j({ resources_: 'x', 'resources_!': 'y', bogus: 'z' }),
      j({ [`resources${'a'.repeat(65)}`]: 'x' }),
    ],
  ],
  [
    'keywords: const, enum, numbers',
    {
      type: 'object',
      properties: {
        c: { const: 1 },
        cl: { const: [1, 'a', null] },
        co: { const: { a: new PyFloat(1) } },
        e: { enum: ['a', 1, null, [1], { k: true }] },
        eb: { enum: [true, 0] },
        ef: { enum: [new PyFloat(2), 'x'] },
        xmin: { exclusiveMinimum: 0 },
        xmax: { exclusiveMaximum: new PyFloat(2.5) },
        mult: { multipleOf: 3 },
        multf: { multipleOf: new PyFloat(0.5) },
      },
    },
    [
      '{"c": 1, "cl": [1, "a", null], "co": {"a": 1}, "e": [1], "eb": 0, "ef": 2, "xmin": 1, "xmax": 2, "mult": 9, "multf": 1.5}',
      '{"c": true}',
      '{"c": 1.0}',
      '{"c": "1"}',
      '{"cl": [true, "a", null]}',
      '{"co": {"a": true}}',
      '{"e": [true]}',
      '{"e": {"k": 1}}',
      '{"e": true}',
      '{"e": 1.0}',
      '{"e": 2}',
      '{"eb": 1}',
      '{"eb": false}',
      '{"eb": 0.0}',
      '{"ef": 2}',
      '{"ef": 3}',
      '{"xmin": 0}',
      '{"xmin": -0.0}',
      '{"xmax": 2.5}',
      '{"xmax": 1e400}',
      '{"mult": 10}',
      '{"mult": 7.5}',
      '{"mult": 30000000000000000000000000001}',
      '{"multf": 1.25}',
      '{"multf": 3}',
    ],
  ],
  [
    'keywords: strings and Python regular expressions',
    {
      type: 'object',
      properties: {
        digits: { type: 'string', pattern: '^\\d+$' },
        dot: { type: 'string', pattern: '^a.c$' },
        endZ: { type: 'string', pattern: '^x\\Z' },
        word: { type: 'string', pattern: '^\\w+$' },
        space: { type: 'string', pattern: '^\\s$' },
        bound: { type: 'string', pattern: '\\bfoo\\b' },
        bracket: { type: 'string', pattern: '^[]a-]+$' },
        upto: { type: 'string', pattern: '^a{,2}b$' },
        brace: { type: 'string', pattern: 'x{' },
        alt: { type: 'string', pattern: '^all|^unknown$|^[A-Z]+$' },
        len: { type: 'string', minLength: 2, maxLength: 3 },
      },
    },
    [
      j({
        digits: '٣٤',
        dot: 'a\rc',
        endZ: 'x',
        word: 'héllo_1',
        space: '\u3000',
        bound: 'é foo',
        bracket: ']a-',
        upto: 'aab',
        brace: 'x{',
        alt: 'allowed',
        len: '😀😀',
      }),
      j({ digits: '12\n' }),
      j({ digits: '1a' }),
      j({ dot: 'a\nc' }),
      j({ endZ: 'x\n' }),
      j({ word: 'a-b' }),
      j({ space: '\x1c' }),
      j({ space: '\ufeff' }),
      j({ bound: 'éfoo' }),
      j({ bracket: 'b' }),
      j({ upto: 'aaab' }),
      j({ brace: 'x' }),
      j({ alt: 'unknown\n' }),
      j({ alt: 'Xunknown' }),
      j({ len: '😀' }),
      j({ len: '😀😀😀😀' }),
      j({ len: 'a' }),
    ],
  ],
  [
    'keywords: objects and arrays',
    {
      type: 'object',
      properties: {
        few: { type: 'object', minProperties: 1, maxProperties: 2 },
        names: { type: 'object', propertyNames: { pattern: '^[a-z]+$' } },
        typed: { type: 'object', additionalProperties: { type: 'integer' } },
        closed: { type: 'object', properties: { a: true, b: false } },
        tuple: {
          type: 'array',
          prefixItems: [{ type: 'string' }, { type: 'integer' }],
          items: false,
        },
        list: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'integer' } },
        multi: { type: ['array', 'object', 'null'] },
      },
    },
    [
      j({
        few: { a: 1 },
        names: { ab: 1 },
        typed: { x: 1 },
        closed: { a: 'anything' },
        tuple: ['a', 1],
        list: [1],
        multi: null,
      }),
      j({ few: {} }),
      j({ few: { a: 1, b: 2, c: 3 } }),
      j({ names: { ab: 1, 'A-b': 2 } }),
      j({ typed: { x: 'one' } }),
      j({ closed: { b: 1 } }),
      j({ tuple: ['a', 'b'] }),
      j({ tuple: ['a', 1, 2] }),
      j({ tuple: [1] }),
      j({ list: [] }),
      j({ list: [1, 2, 3] }),
      j({ list: [1, 'x'] }),
      '{"list": [1.0, 2.5]}',
      j({ multi: 'x' }),
      j({ multi: 1 }),
    ],
  ],
  [
    'keywords: anyOf, oneOf, allOf, not, if, $ref',
    {
      $defs: { positive: { type: 'integer', minimum: 1 } },
      definitions: { name: { type: 'string', maxLength: 3 } },
      type: 'object',
      properties: {
        any: { anyOf: [{ type: 'string', maxLength: 2 }, { type: 'integer' }] },
        anyDeep: {
          anyOf: [
            {
              type: 'object',
              properties: { a: { type: 'object', properties: { b: { type: 'integer' } } } },
            },
            { type: 'string' },
          ],
        },
        one: { oneOf: [{ type: 'integer' }, { minimum: 0 }, { type: 'string' }] },
        all: { allOf: [{ type: 'string' }, { minLength: 3 }, { pattern: '^a' }] },
        not: { not: { type: 'string', enum: ['x'] } },
        cond: { if: { type: 'string' }, then: { minLength: 2 }, else: { type: 'integer' } },
        ref: { $ref: '#/$defs/positive' },
        oldRef: { $ref: '#/definitions/name', minLength: 2 },
      },
    },
    [
      j({
        any: 'ab',
        anyDeep: 'x',
        one: 'x',
        all: 'abc',
        not: 'y',
        cond: 'ab',
        ref: 2,
        oldRef: 'ab',
      }),
      j({ any: 'abc' }),
      j({ any: null }),
      j({ anyDeep: { a: { b: 'x' } } }),
      j({ anyDeep: 1 }),
      j({ one: 5 }),
      j({ one: -1.5 }),
      j({ one: null }),
      j({ one: '' }),
      j({ all: 5 }),
      j({ all: 'b' }),
      j({ not: 'x' }),
      j({ cond: 'a' }),
      j({ cond: null }),
      j({ ref: 0 }),
      j({ ref: 'x' }),
      j({ oldRef: 'abcd' }),
      j({ oldRef: 'a' }),
    ],
  ],
  ['the false schema', false, ['1', 'null']],
  ['the true schema', true, ['1']],
  [
    'a bare type list',
    { type: ['integer', 'null'], additionalProperties: false },
    ['null', '1', '1.0', '1.5', '"1"', '{"a": 1}'],
  ],
];

const CASES = CORPUS.flatMap(([name, schema, instances]) =>
  instances.map((instance) => ({ name, schema, instance })),
);

/** Bodies through placement.util.extract_json itself, as bytes. */
const BODIES: [JsonSchema, string][] = [
  [POST_PROVIDER_1_14, '{"name": "rp"}'],
  [POST_PROVIDER_1_14, ''],
  [POST_PROVIDER_1_14, '{"name": "rp",}'],
  [POST_PROVIDER_1_14, '{"name": "rp", "uuid": "x"}'],
  [POST_PROVIDER_1_14, '\ufeff{"name": "rp"}'],
  [POST_PROVIDER_1_14, '{"name": "r\u00e9"}'],
  [INVENTORY, '{"resource_provider_generation": 1, "total": 1e400}'],
  [INVENTORY, `{"resource_provider_generation": 1, "total": ${'9'.repeat(4301)}}`],
  [POST_RESOURCE_CLASS, '{"name": "CUSTOM_\u00e9"}'],
];
const BAD_BYTES: [JsonSchema, string][] = [
  [POST_PROVIDER_1_14, 'ff'],
  [POST_PROVIDER_1_14, '7b226e616d65223a2022e9227d'],
  [POST_PROVIDER_1_14, '7b226e616d65223a2022c3'],
];

describe.skipIf(!available)("validateJson matches jsonschema's validate under placement", () => {
  const bodies = [
    ...BODIES.map(([schema, text]): [JsonSchema, Uint8Array] => [
      schema,
      new TextEncoder().encode(text),
    ]),
    ...BAD_BYTES.map(([schema, hex]): [JsonSchema, Uint8Array] => [
      schema,
      Uint8Array.from(Buffer.from(hex, 'hex')),
    ]),
  ];
  const reference = python([
    ...CASES.map((c) => ({ schema: schemaText(c.schema), instance: c.instance })),
    ...bodies.map(([schema, bytes]) => ({
      schema: schemaText(schema),
      body: Buffer.from(bytes).toString('hex'),
    })),
  ]);

  for (const [name] of CORPUS) {
    it(name, () => {
      let invalid = 0;
      for (const [i, c] of CASES.entries()) {
        if (c.name !== name) continue;
        const expected = reference[i]!;
        if (expected !== null) invalid++;
        expect(validateJson(parsePyJson(c.instance), c.schema), c.instance.slice(0, 200)).toBe(
          expected,
        );
      }
      if (name !== 'the true schema') expect(invalid).toBeGreaterThan(0);
    });
  }

  it("parseBody answers placement's extract_json 400s", () => {
    for (const [k, [schema, bytes]] of bodies.entries()) {
      const expected = reference[CASES.length + k]!;
      let detail: string | null = null;
      try {
        parseBody(bytes, schema);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        expect(err.status).toBe(400);
        detail = err.detail;
      }
      expect(detail, Buffer.from(bytes).toString('latin1').slice(0, 100)).toBe(expected);
    }
  });
});

describe.skipIf(!available)('validateQuery goes through the same validator', () => {
  // placement's GET /usages schema for 1.38, in its key order.
  const usages: JsonSchema = {
    type: 'object',
    properties: {
      project_id: { type: 'string', minLength: 1, maxLength: 255 },
      user_id: { type: 'string', minLength: 1, maxLength: 255 },
      consumer_type: {
        type: 'string',
        pattern: '^[A-Z0-9_]+$|^all|^unknown$',
        minLength: 1,
        maxLength: 255,
      },
    },
    required: ['project_id'],
    additionalProperties: false,
  };
  const queries = [
    'project_id=p',
    'user_id=',
    'project_id=p&consumer_type=x',
    'b=1&1=2&project_id=',
    'project_id=p&consumer_type=ALL%0A',
  ];
  const instances = queries.map((q) => j(new Map(new QueryParams(q).toMap())));
  const reference = python(instances.map((instance) => ({ schema: schemaText(usages), instance })));

  it('with the schema from schemas.ts', () => {
    for (const [i, q] of queries.entries()) {
      let detail: string | null = null;
      try {
        validateQuery(new QueryParams(q), totalUsagesSchema(new Version(1, 38)));
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        detail = err.detail;
      }
      const expected = reference[i];
      expect(detail, q).toBe(
        expected === null ? null : `Invalid query string parameters: ${expected}`,
      );
    }
  });
});
