/**
 * Schemas of /resource_providers: query strings per microversion, and the
 * bodies of its write routes. Keyword and property order follow placement's
 * own schema dicts, because jsonschema reports the first failure in that order.
 */
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
