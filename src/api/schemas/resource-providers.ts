/**
 * Schemas of /resource_providers: query strings per microversion, and the
 * bodies of its write routes. Keyword and property order follow placement's
 * own schema dicts, because jsonschema reports the first failure in that order.
 */
import type { JsonSchema, SchemaObject } from '../json-schema.js';
import type { Version } from '../microversion.js';
import type { QuerySchema } from '../query.js';
import { extend } from './common.js';

const RPS_1_0: QuerySchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    uuid: { type: 'string', format: 'uuid' },
  },
  additionalProperties: false,
};

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

const PROVIDER_NAME: SchemaObject = { type: 'string', maxLength: 200 };
const PARENT_PROVIDER_UUID: SchemaObject = {
  anyOf: [{ type: 'string', format: 'uuid' }, { type: 'null' }],
};

/** POST /resource_providers before 1.14. */
export const POST_RESOURCE_PROVIDER_SCHEMA: SchemaObject = {
  type: 'object',
  properties: {
    name: PROVIDER_NAME,
    uuid: { type: 'string', format: 'uuid' },
  },
  required: ['name'],
  additionalProperties: false,
};

/** POST /resource_providers from 1.14: a parent may be named. */
export const POST_RP_SCHEMA_V1_14: JsonSchema = {
  ...POST_RESOURCE_PROVIDER_SCHEMA,
  properties: {
    name: PROVIDER_NAME,
    uuid: { type: 'string', format: 'uuid' },
    parent_provider_uuid: PARENT_PROVIDER_UUID,
  },
};

/** PUT /resource_providers/{uuid} before 1.14: the POST schema without uuid. */
export const PUT_RESOURCE_PROVIDER_SCHEMA: JsonSchema = {
  ...POST_RESOURCE_PROVIDER_SCHEMA,
  properties: { name: PROVIDER_NAME },
};

/** PUT /resource_providers/{uuid} from 1.14. */
export const PUT_RP_SCHEMA_V1_14: JsonSchema = {
  ...POST_RESOURCE_PROVIDER_SCHEMA,
  properties: { name: PROVIDER_NAME, parent_provider_uuid: PARENT_PROVIDER_UUID },
};

/** The body schema of POST /resource_providers at `v`. */
export function createProviderSchema(v: Version): JsonSchema {
  return v.atLeast('1.14') ? POST_RP_SCHEMA_V1_14 : POST_RESOURCE_PROVIDER_SCHEMA;
}

/** The body schema of PUT /resource_providers/{uuid} at `v`. */
export function updateProviderSchema(v: Version): JsonSchema {
  return v.atLeast('1.14') ? PUT_RP_SCHEMA_V1_14 : PUT_RESOURCE_PROVIDER_SCHEMA;
}
