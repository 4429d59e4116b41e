/** Schemas of /traits and /resource_providers/{uuid}/traits. */
import type { JsonSchema } from '../body.js';
import type { QuerySchema } from '../query.js';
import { CUSTOM_NAME_PATTERN } from './resource-classes.js';

/** GET /traits. */
export const LIST_TRAITS_SCHEMA: QuerySchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    associated: { type: 'string' },
  },
  additionalProperties: false,
};

/** Any trait name. */
export const TRAIT: JsonSchema = { type: 'string', minLength: 1, maxLength: 255 };

/** A name PUT /traits/{name} may create. */
export const CUSTOM_TRAIT: JsonSchema = { ...TRAIT, pattern: CUSTOM_NAME_PATTERN };

/** PUT /resource_providers/{uuid}/traits. */
export const SET_TRAITS_FOR_RP_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    traits: { type: 'array', items: TRAIT },
    resource_provider_generation: { type: 'integer' },
  },
  required: ['traits', 'resource_provider_generation'],
  additionalProperties: false,
};
