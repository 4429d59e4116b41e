/** Schemas of /resource_classes. */
import type { JsonSchema } from '../body.js';

/** Custom resource class and trait names (placement's CUSTOM_RC_PATTERN and CUSTOM_TRAIT_PATTERN). */
export const CUSTOM_NAME_PATTERN = '^CUSTOM_[A-Z0-9_]+$';

/** POST /resource_classes, and PUT /resource_classes/{name} (its body 1.2–1.6, its name from 1.7). */
export const POST_RC_SCHEMA_V1_2: JsonSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: CUSTOM_NAME_PATTERN, maxLength: 255 },
  },
  required: ['name'],
  additionalProperties: false,
};

export const PUT_RC_SCHEMA_V1_2: JsonSchema = POST_RC_SCHEMA_V1_2;
