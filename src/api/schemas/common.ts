/** What the schemas of several resources share. */
import type { QuerySchema } from '../query.js';

/** A query schema with more properties (placement's copy.deepcopy + update). */
export function extend(base: QuerySchema, extra: QuerySchema['properties']): QuerySchema {
  return { ...base, properties: { ...base.properties, ...extra } };
}
