/**
 * Bodies of /resource_providers/{uuid}/inventories[/{resource_class}], as
 * placement/schemas/inventory.py declares them (keys in its order: the
 * validator reports the first failure in that order, and prints the schema).
 */
import type { SchemaObject } from '../json-schema.js';
import { PyFloat } from '../py-json.js';
import { MAX_INT } from '../store/index.js';

/** Resource class (and trait) names: placement's common.RC_PATTERN. */
export const RC_PATTERN = '^[A-Z0-9_]+$';

/** db_const.SQL_SP_FLOAT_MAX: the largest allocation_ratio a FLOAT column holds. */
export const SQL_SP_FLOAT_MAX = new PyFloat(3.40282e38);

const boundedInteger = (minimum: number): SchemaObject => ({
  type: 'integer',
  maximum: MAX_INT,
  minimum,
});

/** BASE_INVENTORY_SCHEMA: PUT …/inventories/{resource_class}. */
export const BASE_INVENTORY_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    resource_provider_generation: { type: 'integer' },
    total: boundedInteger(1),
    reserved: boundedInteger(0),
    min_unit: boundedInteger(1),
    max_unit: boundedInteger(1),
    step_size: boundedInteger(1),
    allocation_ratio: { type: 'number', maximum: SQL_SP_FLOAT_MAX },
  },
  required: ['total', 'resource_provider_generation'],
  additionalProperties: false,
};

/** POST_INVENTORY_SCHEMA: POST …/inventories (no generation required, a class instead). */
export const POST_INVENTORY_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    ...BASE_INVENTORY_SCHEMA.properties,
    resource_class: { type: 'string', pattern: RC_PATTERN },
  },
  required: ['total', 'resource_class'],
  additionalProperties: false,
};

/** PUT_INVENTORY_RECORD_SCHEMA: one class of PUT …/inventories (its properties keep the generation). */
export const PUT_INVENTORY_RECORD_SCHEMA: SchemaObject = {
  ...BASE_INVENTORY_SCHEMA,
  required: ['total'],
};

/** PUT_INVENTORY_SCHEMA: PUT …/inventories, the whole set. */
export const PUT_INVENTORY_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    resource_provider_generation: { type: 'integer' },
    inventories: {
      type: 'object',
      patternProperties: {
        [RC_PATTERN]: PUT_INVENTORY_RECORD_SCHEMA,
      },
    },
  },
  required: ['resource_provider_generation', 'inventories'],
  additionalProperties: false,
};
