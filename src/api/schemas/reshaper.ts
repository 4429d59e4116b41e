/**
 * The body of POST /reshaper (1.30), as placement's schemas/reshaper.py
 * declares it: the whole-set inventory body per provider, and POST
 * /allocations' body per consumer, which may here name no consumer at all.
 */
import type { SchemaObject } from '../json-schema.js';
import type { Version } from '../microversion.js';
import { reshaperAllocationsSchema, UUID_PATTERN } from './allocations.js';
import { PUT_INVENTORY_SCHEMA } from './inventories.js';

/** POST_RESHAPER_SCHEMA (1.30), _V1_34 (mappings) and _V1_38 (consumer_type). */
export function reshaperSchema(v: Version): SchemaObject {
  return {
    type: 'object',
    properties: {
      inventories: {
        type: 'object',
        patternProperties: { [UUID_PATTERN]: PUT_INVENTORY_SCHEMA },
        minProperties: 1,
        additionalProperties: false,
      },
      allocations: reshaperAllocationsSchema(v),
    },
    required: ['inventories', 'allocations'],
    additionalProperties: false,
  };
}
