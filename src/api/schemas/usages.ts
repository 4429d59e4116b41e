/** Schemas of /usages. */
import type { Version } from '../microversion.js';
import type { QuerySchema } from '../query.js';
import { extend } from './common.js';

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
