/**
 * Request bodies of the write routes, read as placement's util.extract_json
 * reads them: the bytes decoded and parsed as Python's json would, validated
 * against the route's JSON schema, a 400 in placement's words otherwise.
 * Handlers get plain JavaScript values back (floats as numbers).
 */
import { parseBody, type JsonSchema } from './json-schema.js';
import { toPlain } from './py-json.js';

export type { JsonSchema } from './json-schema.js';

/** The body as plain values, or a 400 exactly as placement words it. */
export function readJsonBody(body: string | Uint8Array, schema: JsonSchema): unknown {
  return toPlain(parseBody(body, schema));
}
