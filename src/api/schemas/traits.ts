/** Schemas of /traits and /resource_providers/{uuid}/traits. */
import type { QuerySchema } from '../query.js';

/** GET /traits. */
export const LIST_TRAITS_SCHEMA: QuerySchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    associated: { type: 'string' },
  },
  additionalProperties: false,
};
