/**
 * placement's query-string schemas, per microversion. Keyword and property
 * order follow placement's own schema dicts, because jsonschema reports the
 * first failure in that order.
 */
import type { Version } from './microversion.js';
import type { QuerySchema } from './query.js';

const RPS_1_0: QuerySchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    uuid: { type: 'string', format: 'uuid' },
  },
  additionalProperties: false,
};

function extend(base: QuerySchema, extra: QuerySchema['properties']): QuerySchema {
  return { ...base, properties: { ...base.properties, ...extra } };
}

const RPS_1_3 = extend(RPS_1_0, { member_of: { type: 'string' } });
const RPS_1_4 = extend(RPS_1_3, { resources: { type: 'string' } });
const RPS_1_14 = extend(RPS_1_4, { in_tree: { type: 'string', format: 'uuid' } });
const RPS_1_18 = extend(RPS_1_14, { required: { type: 'string' } });

/** GET /resource_providers. */
export function listProvidersSchema(v: Version): QuerySchema {
  if (v.atLeast('1.18')) return RPS_1_18;
  if (v.atLeast('1.14')) return RPS_1_14;
  if (v.atLeast('1.4')) return RPS_1_4;
  if (v.atLeast('1.3')) return RPS_1_3;
  return RPS_1_0;
}

/** GET /traits. */
export const LIST_TRAITS_SCHEMA: QuerySchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    associated: { type: 'string' },
  },
  additionalProperties: false,
};

const USAGES_1_9: QuerySchema = {
  type: 'object',
  properties: {
    project_id: { type: 'string', minLength: 1, maxLength: 255 },
    user_id: { type: 'string', minLength: 1, maxLength: 255 },
  },
  required: ['project_id'],
  additionalProperties: false,
  keywordOrder: ['properties', 'required', 'additionalProperties'],
};

const CONSUMER_TYPE_GET_PATTERN = '^[A-Z0-9_]+$|^all|^unknown$';

const USAGES_1_38: QuerySchema = extend(USAGES_1_9, {
  consumer_type: {
    type: 'string',
    pattern: CONSUMER_TYPE_GET_PATTERN,
    minLength: 1,
    maxLength: 255,
  },
});

/** GET /usages. */
export function totalUsagesSchema(v: Version): QuerySchema {
  return v.atLeast('1.38') ? USAGES_1_38 : USAGES_1_9;
}
