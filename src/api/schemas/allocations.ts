/**
 * Bodies of PUT /allocations/{consumer_uuid} and POST /allocations, per
 * microversion, as placement's schemas/allocation.py declares them. Keyword
 * and property order follow placement's dicts (and the order its copies
 * append to them), because jsonschema reports the first failure in that order.
 */
import type { SchemaObject } from '../json-schema.js';
import type { Version } from '../microversion.js';

/** placement's common.UUID_PATTERN: 36 hex digits or dashes, nothing stricter. */
export const UUID_PATTERN = '^[0-9a-fA-F-]{36}$';
/** common.RC_PATTERN. */
export const RC_PATTERN = '^[A-Z0-9_]+$';
/** common.CONSUMER_TYPE_PATTERN. */
const CONSUMER_TYPE_PATTERN = '^[A-Z0-9_]+$';
/** common.GROUP_PAT_1_33: a request group suffix (1.33). */
const GROUP_PAT_1_33 = '[a-zA-Z0-9_-]{1,64}';

const resourcesSchema = (): SchemaObject => ({
  type: 'object',
  minProperties: 1,
  patternProperties: {
    [RC_PATTERN]: { type: 'integer', minimum: 1 },
  },
  additionalProperties: false,
});

const externalId = (): SchemaObject => ({ type: 'string', minLength: 1, maxLength: 255 });

/** ALLOCATION_SCHEMA (1.0–1.7): a list of {resource_provider: {uuid}, resources}. */
const PUT_1_0: SchemaObject = {
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
          resources: resourcesSchema(),
        },
        required: ['resource_provider', 'resources'],
        additionalProperties: false,
      },
    },
  },
  required: ['allocations'],
  additionalProperties: false,
};

/** ALLOCATION_SCHEMA_V1_8: project_id and user_id required. */
const PUT_1_8: SchemaObject = {
  ...PUT_1_0,
  properties: {
    ...PUT_1_0.properties,
    project_id: externalId(),
    user_id: externalId(),
  },
  required: ['allocations', 'project_id', 'user_id'],
};

/** ALLOCATION_SCHEMA_V1_12 with allocations' minProperties as given. */
function dictForm(minProperties: number): SchemaObject {
  return {
    type: 'object',
    properties: {
      allocations: {
        type: 'object',
        minProperties,
        patternProperties: {
          [UUID_PATTERN]: {
            type: 'object',
            properties: {
              generation: { type: 'integer' },
              resources: resourcesSchema(),
            },
            required: ['resources'],
            additionalProperties: false,
          },
        },
        additionalProperties: false,
      },
      project_id: externalId(),
      user_id: externalId(),
    },
    additionalProperties: false,
    required: ['allocations', 'project_id', 'user_id'],
  };
}

/** A copy of a dict-form schema with one more property, required when `required`. */
function withProperty(
  base: SchemaObject,
  name: string,
  schema: SchemaObject,
  required: boolean,
): SchemaObject {
  return {
    ...base,
    properties: { ...base.properties, [name]: schema },
    ...(required ? { required: [...(base.required ?? []), name] } : {}),
  };
}

const consumerGeneration = (): SchemaObject => ({
  type: ['integer', 'null'],
  additionalProperties: false,
});

const mappingsSchema = (): SchemaObject => ({
  type: 'object',
  minProperties: 1,
  patternProperties: {
    [GROUP_PAT_1_33]: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', format: 'uuid' },
    },
  },
});

const consumerType = (): SchemaObject => ({
  type: 'string',
  pattern: CONSUMER_TYPE_PATTERN,
  minLength: 1,
  maxLength: 255,
});

const PUT_1_12 = dictForm(1);
/** DELETABLE_ALLOCATIONS: a consumer's allocations may be {} (POST, and PUT from 1.28). */
const DELETABLE = dictForm(0);
const PUT_1_28 = withProperty(DELETABLE, 'consumer_generation', consumerGeneration(), true);
const PUT_1_34 = withProperty(PUT_1_28, 'mappings', mappingsSchema(), false);
const PUT_1_38 = withProperty(PUT_1_34, 'consumer_type', consumerType(), true);

/** The body of PUT /allocations/{consumer_uuid} at `v`. */
export function putAllocationsSchema(v: Version): SchemaObject {
  if (v.atLeast('1.38')) return PUT_1_38;
  if (v.atLeast('1.34')) return PUT_1_34;
  if (v.atLeast('1.28')) return PUT_1_28;
  if (v.atLeast('1.12')) return PUT_1_12;
  if (v.atLeast('1.8')) return PUT_1_8;
  return PUT_1_0;
}

/** POST_ALLOCATIONS_*: consumers by UUID, each in PUT's dict form. */
function postForm(consumer: SchemaObject): SchemaObject {
  return {
    type: 'object',
    minProperties: 1,
    additionalProperties: false,
    patternProperties: { [UUID_PATTERN]: consumer },
  };
}

const POST_1_13 = postForm(DELETABLE);
const POST_1_28 = postForm(PUT_1_28);
const POST_1_34 = postForm(PUT_1_34);
const POST_1_38 = postForm(PUT_1_38);

/** The body of POST /allocations at `v` (1.13 and later). */
export function postAllocationsSchema(v: Version): SchemaObject {
  if (v.atLeast('1.38')) return POST_1_38;
  if (v.atLeast('1.34')) return POST_1_34;
  if (v.atLeast('1.28')) return POST_1_28;
  return POST_1_13;
}

/** POST /allocations' consumers as the reshaper takes them (1.30 and later): possibly none at all. */
export function reshaperAllocationsSchema(v: Version): SchemaObject {
  return { ...postAllocationsSchema(v), minProperties: 0 };
}
