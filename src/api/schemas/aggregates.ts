/** Schemas of /resource_providers/{uuid}/aggregates. */
import type { JsonSchema } from '../body.js';
import type { Version } from '../microversion.js';

const AGGREGATES_LIST: JsonSchema = {
  type: 'array',
  items: { type: 'string', format: 'uuid' },
  uniqueItems: true,
};

/** PUT before 1.19: a bare list of aggregate UUIDs. */
export const PUT_AGGREGATES_SCHEMA_V1_1: JsonSchema = AGGREGATES_LIST;

/** PUT from 1.19: the list with the provider's generation. */
export const PUT_AGGREGATES_SCHEMA_V1_19: JsonSchema = {
  type: 'object',
  properties: {
    aggregates: AGGREGATES_LIST,
    resource_provider_generation: { type: 'integer' },
  },
  required: ['aggregates', 'resource_provider_generation'],
  additionalProperties: false,
};

export function putAggregatesSchema(v: Version): JsonSchema {
  return v.atLeast('1.19') ? PUT_AGGREGATES_SCHEMA_V1_19 : PUT_AGGREGATES_SCHEMA_V1_1;
}
