/**
 * The query schemas of GET /allocation_candidates, one per microversion
 * where they change. Keyword and property order follow placement's schema
 * dicts (jsonschema reports the first failure in that order): from 1.25 the
 * group keys move from `properties` into `patternProperties`, which then
 * comes after `additionalProperties`.
 */
import type { JsonSchema, SchemaObject } from '../json-schema.js';
import type { Version } from '../microversion.js';

const STRING: SchemaObject = { type: 'string' };
const STRING_LIST: SchemaObject = { type: ['string'] };

const LIMIT: SchemaObject = {
  type: ['integer', 'string'],
  pattern: '^[1-9][0-9]*$',
  minimum: 1,
  minLength: 1,
};

/** Numbered group suffixes (1.25), then any 1–64 of [a-zA-Z0-9_-] (1.33). */
export const GROUP_SUFFIX = '[1-9][0-9]*';
export const GROUP_SUFFIX_1_33 = '[a-zA-Z0-9_-]{1,64}';

/** The schemas before granular groups: `resources` required, everything a named property. */
function flat(properties: Record<string, SchemaObject>): SchemaObject {
  return {
    type: 'object',
    properties,
    required: ['resources'],
    additionalProperties: false,
  };
}

function granular(
  properties: Record<string, SchemaObject>,
  suffix: string,
  prefixes: string[],
): SchemaObject {
  const patternProperties: Record<string, SchemaObject> = {};
  for (const p of prefixes) patternProperties[`^${p}(${suffix})?$`] = STRING;
  return { type: 'object', properties, additionalProperties: false, patternProperties };
}

const GROUP_KEYS_1_25 = ['resources', 'required', 'member_of'];
const GROUP_KEYS_1_31 = [...GROUP_KEYS_1_25, 'in_tree'];
const POLICY: SchemaObject = { type: 'string', enum: ['none', 'isolate'] };

const SCHEMAS: [string, SchemaObject][] = [
  [
    '1.36',
    granular(
      { limit: LIMIT, group_policy: POLICY, root_required: STRING_LIST, same_subtree: STRING_LIST },
      GROUP_SUFFIX_1_33,
      GROUP_KEYS_1_31,
    ),
  ],
  [
    '1.35',
    granular(
      { limit: LIMIT, group_policy: POLICY, root_required: STRING_LIST },
      GROUP_SUFFIX_1_33,
      GROUP_KEYS_1_31,
    ),
  ],
  ['1.33', granular({ limit: LIMIT, group_policy: POLICY }, GROUP_SUFFIX_1_33, GROUP_KEYS_1_31)],
  ['1.31', granular({ limit: LIMIT, group_policy: POLICY }, GROUP_SUFFIX, GROUP_KEYS_1_31)],
  ['1.25', granular({ limit: LIMIT, group_policy: POLICY }, GROUP_SUFFIX, GROUP_KEYS_1_25)],
  [
    '1.21',
    flat({ resources: STRING, limit: LIMIT, required: STRING_LIST, member_of: STRING_LIST }),
  ],
  ['1.17', flat({ resources: STRING, limit: LIMIT, required: STRING_LIST })],
  ['1.16', flat({ resources: STRING, limit: LIMIT })],
];

/** The query schema of GET /allocation_candidates at `v` (1.10 and later). */
export function listCandidatesSchema(v: Version): JsonSchema {
  for (const [since, schema] of SCHEMAS) if (v.atLeast(since)) return schema;
  return flat({ resources: STRING });
}
